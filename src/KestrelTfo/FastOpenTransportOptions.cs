using System.ComponentModel;
using System.Net;
using System.Net.Sockets;

namespace KestrelTfo;

/// <summary>
/// Options for the TCP Fast Open transport.
/// </summary>
/// <remarks>
/// Bound from the <c>Kestrel:FastOpen</c> configuration section (see <see cref="ConfigurationSectionName"/>),
/// then from the delegate given to <c>UseFastOpenTransport</c>, so code can override configuration.
/// The socket settings mirror Kestrel's own <c>SocketTransportOptions</c>, with the same defaults.
/// </remarks>
public sealed class FastOpenTransportOptions
{
    /// <summary>
    /// The configuration section the options are bound from: <c>Kestrel:FastOpen</c>.
    /// </summary>
    public const string ConfigurationSectionName = "Kestrel:FastOpen";

    /// <summary>
    /// Gets or sets the maximum number of TCP Fast Open connections that may wait in the accept queue
    /// before their handshake completes. Beyond it, new SYNs with data fall back to a normal handshake
    /// (the kernel counts them as <c>TCPFastOpenListenOverflow</c>).
    /// </summary>
    /// <remarks>
    /// Defaults to 256. Linux uses the value as the queue length; macOS, FreeBSD and Windows only switch
    /// TCP Fast Open on and size the queue themselves. Must be positive.
    /// </remarks>
    public int QueueLength { get; set; } = 256;

    /// <summary>
    /// Gets or sets a value indicating whether start-up fails when TCP Fast Open cannot be enabled on a
    /// listener, instead of serving without it.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>: the application always serves, and a warning says how to enable
    /// TCP Fast Open in the kernel.
    /// </remarks>
    public bool RequireFastOpen { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the transport may switch on the kernel's TCP Fast Open
    /// server bit itself when it is off (Linux: <c>net.ipv4.tcp_fastopen</c>, which needs root or
    /// <c>CAP_NET_ADMIN</c> in the network namespace). What it did is logged.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>: the transport never changes system settings unless asked to.
    /// </remarks>
    public bool TryEnableKernelSupport { get; set; }

    /// <summary>
    /// Gets or sets what happens to a TCP Fast Open connection whose early data is not a TLS ClientHello, and so
    /// could be a replay of another connection's: see <see cref="KestrelTfo.EarlyDataPolicy"/>.
    /// </summary>
    /// <remarks>
    /// Defaults to <see cref="EarlyDataPolicy.Flag"/>: the connection goes ahead, says in
    /// <see cref="IFastOpenFeature.EarlyDataAction"/> that it may be a replay, and the request in its early data runs at
    /// once only when replay-safe (see <see cref="UnsafeEarlyDataRequests"/>), so safe requests keep the saved round trip
    /// and nothing unsafe runs twice. <see cref="EarlyDataPolicyByPort"/> overrides it for single listeners.
    /// </remarks>
    public EarlyDataPolicy EarlyDataPolicy { get; set; } = EarlyDataPolicy.Flag;

    /// <summary>
    /// Gets the early-data policy of particular listeners, by the port Kestrel binds them to (configuration:
    /// <c>Kestrel:FastOpen:EarlyDataPolicyByPort:8080 = Defer</c>). Listeners on other ports use
    /// <see cref="EarlyDataPolicy"/>.
    /// </summary>
    /// <remarks>
    /// Defaults to empty.
    /// </remarks>
    public IDictionary<int, EarlyDataPolicy> EarlyDataPolicyByPort { get; } = new Dictionary<int, EarlyDataPolicy>();

    /// <summary>
    /// Gets or sets what happens to a request whose method is not replay-safe (anything but GET, HEAD and OPTIONS) when
    /// it arrived before its connection's handshake completed, as a request in a SYN's data does under
    /// <see cref="EarlyDataPolicy.Flag"/>, or when a proxy forwarded it with <c>Early-Data: 1</c> (RFC 8470). Endpoint
    /// metadata (<c>[EarlyData(...)]</c>, <c>.WithEarlyData(...)</c>) overrides it.
    /// </summary>
    /// <remarks>
    /// Defaults to <see cref="EarlyDataRequestHandling.WaitForHandshake"/>: the request reaches the app once the
    /// handshake has completed, which a replay never does, so nothing unsafe runs twice and the client sees no error.
    /// <see cref="EarlyDataRequestHandling.TooEarly"/> answers 425 instead; <see cref="EarlyDataRequestHandling.RunAtOnce"/>
    /// runs it, and leaves the app to read <see cref="IEarlyDataRequestFeature.IsPossibleReplay"/>.
    /// </remarks>
    public EarlyDataRequestHandling UnsafeEarlyDataRequests { get; set; } = EarlyDataRequestHandling.WaitForHandshake;

    /// <summary>
    /// Gets or sets a value indicating whether HTTPS endpoints served by the TLS layer on OpenSSL (<c>UseOpenSslHttps</c>)
    /// accept TLS 1.3 early data (0-RTT): a client resuming a session sends its first request with its ClientHello, and
    /// the answer goes out before the handshake completes, one round trip sooner. An endpoint's own setting
    /// (<c>UseOpenSslHttps(httpsOptions, earlyData)</c>, or <c>EarlyData</c> in its configuration section) wins.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>: tickets say <c>max_early_data</c> 0, and clients send none. When on, each
    /// 0-RTT ClientHello's early data is accepted at most once by this instance (a record of them covers the 10 s
    /// ticket-age window OpenSSL allows; when full, early data is declined, never accepted unchecked), and requests in
    /// early data meet the same guard as requests in a SYN (<see cref="UnsafeEarlyDataRequests"/>). Endpoints that ask
    /// for client certificates do not accept early data. See docs/early-data.md.
    /// </remarks>
    public bool TlsEarlyData { get; set; }

    /// <summary>
    /// Gets or sets the most early data, in bytes, a client may send on one connection; the tickets tell clients so.
    /// </summary>
    /// <remarks>
    /// Defaults to 16384 (one TLS record: a request line and headers, with room to spare). From 1 to 1048576. A client
    /// that sends more than its ticket allowed has its connection ended, as RFC 8446 requires.
    /// </remarks>
    public int TlsMaxEarlyDataSize { get; set; } = 16 * 1024;

    internal EarlyDataPolicy EarlyDataPolicyFor(int port) =>
        EarlyDataPolicyByPort.TryGetValue(port, out var policy) ? policy : EarlyDataPolicy;

    /// <summary>
    /// Gets or sets how long a TCP Fast Open connection may take to complete its handshake once the kernel has accepted
    /// its SYN. Until then it holds a place in the listener's queue (<see cref="QueueLength"/>), which a client that
    /// sends SYNs and never acknowledges the server's SYN-ACK would otherwise keep for the minute or two the kernel
    /// resends it. A connection past the bound is aborted with a reset, under every <see cref="KestrelTfo.EarlyDataPolicy"/>,
    /// and counted (<c>kestreltfo.handshake.aborted</c>); under <see cref="EarlyDataPolicy.Defer"/> the application never
    /// saw its early data.
    /// </summary>
    /// <remarks>
    /// Defaults to 10 seconds: a real client completes the handshake within one round trip, and within 10 s even on a
    /// path with a round trip of 2 s whose first two ACKs are lost (the server resends its SYN-ACK after 1 s and 3 s).
    /// Must be positive.
    /// </remarks>
    public TimeSpan FastOpenHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets the former name of <see cref="FastOpenHandshakeTimeout"/>, which now bounds every TCP Fast Open
    /// connection's handshake, not only deferred ones.
    /// </summary>
    /// <remarks>
    /// Defaults to 10 seconds, as <see cref="FastOpenHandshakeTimeout"/>, which it reads and writes.
    /// </remarks>
    [Obsolete("Use FastOpenHandshakeTimeout, which now bounds every TCP Fast Open handshake, deferred or not.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public TimeSpan EarlyDataDeferTimeout
    {
        get => FastOpenHandshakeTimeout;
        set => FastOpenHandshakeTimeout = value;
    }

    /// <summary>
    /// Gets or sets how many TCP Fast Open connections one client may have waiting for their handshake on a listener at
    /// once, counting an IPv4 address or an IPv6 /64 as one client. Beyond it the client's new TCP Fast Open connections
    /// are aborted with a reset as soon as they are accepted, before the application sees them, and counted
    /// (<c>kestreltfo.handshake.aborted</c>): one client that sends SYNs with data and no ACKs then holds at most this
    /// many places in the listener's queue (<see cref="QueueLength"/>) and cannot take TCP Fast Open away from the
    /// others. <see langword="null"/> sets no limit.
    /// </summary>
    /// <remarks>
    /// Defaults to 32. A handshake waits one round trip, so one address reaches 32 only by opening more than 32 TCP Fast
    /// Open connections within one round trip: 320 a second to one listener at a 100 ms round trip. Raise it for a proxy
    /// or NAT gateway that opens more than that from one address. Must be positive.
    /// </remarks>
    public int? MaxPendingHandshakesPerClient { get; set; } = 32;

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="EarlyDataPolicy.Defer"/> has the kernel refuse early data that is
    /// not a TLS ClientHello (Linux: a filter on the listening socket trims it from the SYN, and the client sends it again
    /// after the handshake). When false, the transport accepts such data in the SYN and holds it back itself until the
    /// handshake completes, asking the kernel for each held connection at intervals of 1 to 50 ms.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>. Set it to false where segments reach the server without their TCP checksum
    /// verified by the network card (behind a tunnel or IPsec without checksum offload, a TUN-based VPN): there the kernel
    /// checks the checksum of a segment over 76 bytes only after the filter has trimmed it, the check fails, and the SYN is
    /// dropped, so such a client waits a retransmission timeout (1 s) and sends a SYN without data. The kernel counts each
    /// in <c>TcpInCsumErrors</c> (<c>nstat -az TcpInCsumErrors</c>).
    /// </remarks>
    public bool KernelEarlyDataFilter { get; set; } = true;

    /// <summary>
    /// Gets or sets the window in which a TLS ClientHello that arrives in a SYN again, byte for byte, is taken for
    /// a duplicate and its connection closed. A ClientHello carries 32 fresh random bytes, so a real client never
    /// repeats one; only a duplicated or replayed SYN does. <see langword="null"/> turns the check off.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/> (off): a replayed ClientHello is harmless, this only saves the handshake
    /// work. When on, at most 4096 recent ClientHellos are remembered (16 bytes each), so memory stays bounded.
    /// </remarks>
    public TimeSpan? ClientHelloDebounceWindow { get; set; }

    /// <summary>
    /// Gets or sets the key the listeners make TCP Fast Open cookies with: 16 bytes written as 32 hex digits (for
    /// example from <c>openssl rand -hex 16</c>) or in base64, the bytes in order; or in the kernel's form,
    /// <c>xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx</c>, read as <c>net.ipv4.tcp_fastopen_key</c> reads it (four 32-bit
    /// words), so a key copied from that sysctl makes the same cookies here. Instances that share a key accept each
    /// other's cookies wherever they see the same server address (anycast, ECMP, direct server return; not behind
    /// DNAT, where each sees its own).
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: listeners use the kernel's key for their network namespace, which
    /// differs per host and changes at reboot. Linux only. When the configuration reloads, a changed key is
    /// applied to every live listener at once; an invalid one is rejected and the keys in force stay.
    /// The key never appears in logs or metrics.
    /// </remarks>
    public string? CookieKey { get; set; }

    /// <summary>
    /// Gets or sets a second key whose cookies are still accepted, for rotation without a lost round trip:
    /// first add the new key here, then, once every instance has it, make it <see cref="CookieKey"/> and move
    /// the old one here, and finally remove the old one. Same format as <see cref="CookieKey"/>, which it needs.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>. Needs Linux 5.3 or later.
    /// </remarks>
    public string? BackupCookieKey { get; set; }

    /// <summary>
    /// Gets or sets the key the TLS layer on OpenSSL (<c>UseOpenSslHttps</c>) encrypts session tickets with: 32 bytes
    /// written as 64 hex digits (for example from <c>openssl rand -hex 32</c>) or in base64, the bytes in order. The
    /// ticket's key name, HMAC-SHA256 key and AES-256 key are derived from it (HKDF-SHA256). Instances that share a key
    /// resume each other's TLS sessions, and an instance resumes the sessions it issued before a restart, so a returning
    /// TLS 1.3 client can resume, and send early data, wherever it lands. A ticket does not depend on the server's address,
    /// so this works behind DNAT too.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>: each endpoint encrypts tickets under a random key of its own, which no other
    /// instance has and a restart loses. When the configuration these options are bound to reloads, a changed key is in
    /// force for every endpoint at once, and removing it sends each endpoint back to a key of its own; an invalid one is
    /// rejected and the keys in force stay. The key never appears in logs or metrics.
    /// </remarks>
    public string? TicketKey { get; set; }

    /// <summary>
    /// Gets or sets a second key whose tickets still resume (and are replaced by tickets under <see cref="TicketKey"/>), for
    /// rotation without a lost resumption: first add the new key here, then, once every instance has it, make it
    /// <see cref="TicketKey"/> and move the old one here, and finally remove the old one. Same format as
    /// <see cref="TicketKey"/>, which it needs, and a different key.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="null"/>. The key never appears in logs or metrics.
    /// </remarks>
    public string? BackupTicketKey { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether ASP.NET Core's own telemetry of the transport's connections gets a
    /// <c>kestreltfo.fast_open</c> tag (true or false): the request duration histogram
    /// (<c>http.server.request.duration</c>), the connection duration histogram (<c>kestrel.connection.duration</c>,
    /// tagged by the connection's first request) and the request's server <c>Activity</c>. Existing dashboards can then
    /// compare requests with and without TCP Fast Open.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>. Costs a few feature lookups per request, and allocates nothing while none
    /// of those is listened to.
    /// </remarks>
    public bool TagTelemetry { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether TCP Fast Open may be on where the transport cannot see which
    /// connections carried data in their SYN (macOS, FreeBSD, Windows): there no early data is ever flagged or
    /// deferred, <see cref="IFastOpenFeature.IsFastOpen"/> is always false, and a replayed plaintext request runs
    /// unnoticed. Linux is not affected.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>: on those platforms TCP Fast Open stays off, and a warning at start-up says
    /// why. Set it only when every endpoint is safe to run twice, or every client speaks TLS.
    /// </remarks>
    public bool AllowUnguardedEarlyData { get; set; }

    /// <summary>
    /// Gets or sets a function that creates the listening socket for an endpoint, bound but not listening, for apps
    /// that need socket options of their own (<c>SO_REUSEPORT</c>, <c>IP_FREEBIND</c>, a bound device). The transport
    /// then sets TCP Fast Open, the cookie keys and the early-data filter on the socket it returns, and listens.
    /// </summary>
    /// <remarks>
    /// Defaults to <see cref="CreateDefaultBoundListenSocket"/>.
    /// </remarks>
    public Func<EndPoint, Socket> CreateBoundListenSocket { get; set; } = CreateDefaultBoundListenSocket;

    /// <summary>
    /// Gets or sets the maximum length of the pending connection queue (the <c>listen</c> backlog).
    /// </summary>
    /// <remarks>
    /// Defaults to 512. Must be positive.
    /// </remarks>
    public int Backlog { get; set; } = 512;

    /// <summary>
    /// Gets or sets a value indicating whether the Nagle algorithm is disabled on accepted connections.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>.
    /// </remarks>
    public bool NoDelay { get; set; } = true;

    /// <summary>
    /// Gets or sets the number of I/O queues used to process requests. Zero schedules I/O completions
    /// directly on the thread pool.
    /// </summary>
    /// <remarks>
    /// Defaults to the number of processors, at most 16. Must not be negative.
    /// </remarks>
    public int IOQueueCount { get; set; } = Math.Min(Environment.ProcessorCount, 16);

    /// <summary>
    /// Gets or sets a value indicating whether a connection waits for data before it allocates a read buffer.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="true"/>, which saves memory on idle connections.
    /// </remarks>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>
    /// Gets or sets the maximum number of bytes buffered from the socket before reads pause.
    /// <see langword="null"/> means no limit.
    /// </summary>
    /// <remarks>
    /// Defaults to 1 MiB. Must not be negative.
    /// </remarks>
    public long? MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets the maximum number of bytes buffered for the socket before writes pause.
    /// <see langword="null"/> means no limit.
    /// </summary>
    /// <remarks>
    /// Defaults to 64 KiB. Must not be negative.
    /// </remarks>
    public long? MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether application code may run inline on I/O threads.
    /// Unsafe: blocking application code then stalls the transport.
    /// </summary>
    /// <remarks>
    /// Defaults to <see langword="false"/>, or to <see langword="true"/> when the environment variable
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> is <c>1</c>, as in Kestrel's socket transport.
    /// </remarks>
    public bool UnsafePreferInlineScheduling { get; set; } =
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";

    /// <summary>
    /// Creates a TCP socket bound to <paramref name="endpoint"/>, as Kestrel's socket transport does: dual mode for the
    /// IPv6 any address, so it takes IPv4 connections too.
    /// </summary>
    /// <param name="endpoint">An <see cref="IPEndPoint"/>.</param>
    /// <returns>The bound socket.</returns>
    /// <exception cref="NotSupportedException"><paramref name="endpoint"/> is not an <see cref="IPEndPoint"/>.</exception>
    /// <exception cref="SocketException">The socket could not be bound.</exception>
    public static Socket CreateDefaultBoundListenSocket(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"The TCP Fast Open transport binds IP endpoints only, not {endpoint.GetType().Name} '{endpoint}'.");
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(ip);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
