using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.Client;

/// <summary>
/// Options for <see cref="FastOpenConnector"/>: which first writes may ride in a SYN, and how long a
/// connection may take.
/// </summary>
/// <remarks>
/// A connection opens when its first bytes are written. One whole TLS ClientHello always goes in the SYN: it is safe
/// to replay. A plaintext request goes in the SYN only when it is exactly one request head with a safe method (GET,
/// HEAD, OPTIONS), no body, no Upgrade and no Expect, and <see cref="SafePlaintextRequests"/> allows it; anything else
/// connects normally first, then writes.
/// </remarks>
public sealed class FastOpenConnectOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether a plaintext request that is exactly one request head with a safe method
    /// (GET, HEAD, OPTIONS) and no body may be sent in the SYN. A network may deliver a SYN twice, so a request in a SYN
    /// can reach the server twice; safe methods make that harmless.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>. Requests with any other method never go in a SYN, whatever this says.
    /// </remarks>
    public bool SafePlaintextRequests { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a TCP Fast Open connection may wait for the server's SYN-ACK before a normal connection
    /// is raced against it; whichever is established first is kept, and the first write goes out on it only: the plain
    /// connection writes nothing until it has won, and the loser is reset. For networks whose middleboxes drop SYNs that
    /// carry data. <see langword="null"/> turns the race off.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/> (off): the kernel retries such a SYN without data after its own
    /// retransmission timeout (1 s on Linux). When set, it must be positive; a little more than the expected round
    /// trip time is a good value.
    /// </remarks>
    public TimeSpan? FallbackDelay { get; set; }

    /// <summary>
    /// Gets or sets how long opening a connection may take, from the first write until the server answered the SYN.
    /// The connect callback itself returns at once, so this is where a connect timeout applies.
    /// <see cref="Timeout.InfiniteTimeSpan"/> means no limit.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: the <c>ConnectTimeout</c> of the <c>SocketsHttpHandler</c> the connector
    /// was installed on with <c>UseFastOpen</c>, or no limit when the connector is used on its own. When set, it must
    /// be positive or <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </remarks>
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary>
    /// Gets or sets a function that creates the unconnected TCP socket for a connection to the given endpoint, for
    /// callers that need sockets made a particular way (bound to a source address or device, or created in another
    /// network namespace). The connector switches Nagle off and TCP Fast Open on or off for it, as the first write
    /// allows (a socket for a write that is not safe to repeat has <c>TCP_FASTOPEN_CONNECT</c> cleared, whatever the
    /// function set), connects and owns it.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: a new TCP socket of the endpoint's address family.
    /// </remarks>
    public Func<IPEndPoint, Socket>? CreateSocket { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether HTTPS requests go over the client's own TLS (OpenSSL 3, on Linux), which
    /// resumes TLS 1.3 sessions and sends a connection's first request as early data with the ClientHello when it is
    /// safe to repeat (one GET, HEAD or OPTIONS request head without a body): the response then comes one round trip
    /// after the SYN. Takes effect through a <see cref="FastOpenHttpsHandler"/>, which <c>IHttpClientFactory</c>'s
    /// <c>UseFastOpen</c> puts in front of the primary handler; requests it cannot take (HTTP/2, through a proxy, client
    /// certificates) stay on SocketsHttpHandler's own TLS. See <see cref="FastOpenHttpsHandler"/>.
    /// </summary>
    /// <remarks>Defaults to <see langword="false"/>: every HTTPS request uses SocketsHttpHandler's own TLS.</remarks>
    public bool TlsEarlyData { get; set; }

    /// <summary>
    /// Gets or sets how many TLS sessions (tickets) one <see cref="FastOpenHttpsHandler"/> keeps, over all servers; each is
    /// used once. When full, the oldest goes.
    /// </summary>
    /// <remarks>Defaults to 256. From 1 to 65,536.</remarks>
    public int TlsSessionCacheSize { get; set; } = DefaultTlsSessionCacheSize;

    /// <summary>The default of <see cref="TlsSessionCacheSize"/>.</summary>
    internal const int DefaultTlsSessionCacheSize = 256;

    /// <summary>The largest <see cref="TlsSessionCacheSize"/>.</summary>
    internal const int MaxTlsSessionCacheSize = 65536;
}
