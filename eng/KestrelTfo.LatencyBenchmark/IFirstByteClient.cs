using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// A client the benchmark times: it opens a new connection, sends one GET and reports when the first response
/// byte arrived. Implement it to measure another client (such as an HttpClient with a TFO connect callback); the
/// socket must come from <c>createSocket</c>, which makes it in the emulated link's client namespace.
/// </summary>
/// <remarks>
/// Call <c>createSocket</c> once per connection attempt; the caller owns every socket it returns. The first call
/// returns a socket made before the clock started; a later one (a fallback's) makes a new socket, which takes the
/// emulator's hop into the client namespace, about 0.1 ms, and that counts in the time (see
/// <see cref="ClientSocketSource"/>).
/// </remarks>
internal interface IFirstByteClient
{
    /// <summary>The name in the report, such as "socket, plain" or "HttpClient + UseFastOpen".</summary>
    string Name { get; }

    /// <summary>What kind of client it is ("socket", "HttpClient"): a TFO client is compared with the plain one of its kind.</summary>
    string Family { get; }

    /// <summary>Whether it sends its first bytes in the SYN when the kernel holds a cookie.</summary>
    bool FastOpen { get; }

    /// <summary>
    /// Whether its request rides in TLS 1.3 early data and is one a server answers from it at once (a GET), before the
    /// handshake completes: TLS's round trip saved.
    /// </summary>
    bool AnsweredFromEarlyData => false;

    /// <summary>
    /// Opens a connection, sends <c>GET /</c>, and returns when it opened the connection and when the first response
    /// byte arrived, with the connection's local port.
    /// </summary>
    Task<FirstByteTiming> TimeToFirstByteAsync(Func<Socket> createSocket, IPEndPoint server, bool https, CancellationToken cancellationToken);
}
