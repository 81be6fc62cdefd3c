namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// One measured combination: which server transport, which client, which protocol, and whether a proxy stands between
/// them. A proxied scenario's transport is that of the proxy and the backend both, and with a TFO transport the proxy's
/// forwarding client connects with TCP Fast Open too. With <see cref="BackendEarlyData"/>, it forwards over HTTPS with TLS
/// 1.3 early data.
/// </summary>
internal sealed record Scenario(BenchmarkTransport Transport, IFirstByteClient Client, BenchmarkProtocol Protocol, bool Proxied = false, bool BackendEarlyData = false)
{
    public bool Https => Protocol != BenchmarkProtocol.Http1;

    public bool ServerHasFastOpen => Transport != BenchmarkTransport.Default;

    public string Server => (Proxied ? "YARP on " : "") + Transport switch
    {
        BenchmarkTransport.Default => Proxied ? "Kestrel default → Kestrel default" : "Kestrel default",
        BenchmarkTransport.FastOpen => Proxied ? "KestrelTfo + UseFastOpen → KestrelTfo" : "KestrelTfo",
        BenchmarkTransport.Nginx => "nginx (fastopen, ssl_early_data)",
        _ => "KestrelTfo, Defer",
    } + (BackendEarlyData ? ", https + FastOpenHttpsHandler" : "");

    public string ProtocolName => Protocol switch
    {
        BenchmarkProtocol.Http1 => "HTTP/1.1",
        BenchmarkProtocol.Https => "HTTPS (TLS 1.3)",
        BenchmarkProtocol.HttpsOpenSsl => "HTTPS (TLS 1.3), OpenSSL layer",
        // nginx terminates TLS on OpenSSL too, but not on KestrelTfo's layer.
        BenchmarkProtocol.HttpsOpenSslEarlyData => Transport == BenchmarkTransport.Nginx ? "HTTPS (TLS 1.3), early data" : "HTTPS (TLS 1.3), OpenSSL layer, early data",
        _ => "gRPC (HTTP/2, TLS 1.3)",
    };

    /// <summary>
    /// Whether the client's first flight rides in the SYN: a TFO client, a server that takes SYN data, and (under Defer,
    /// whose kernel filter trims anything else) a ClientHello.
    /// </summary>
    public bool SavesRoundTrip =>
        Client.FastOpen && (Transport is BenchmarkTransport.FastOpen or BenchmarkTransport.Nginx || (Transport == BenchmarkTransport.FastOpenDefer && Https));

    /// <summary>
    /// The fewest round trips physics allows to the first response byte (on the client's leg, for a proxied
    /// scenario): the handshake's one (saved when the request or ClientHello rides in the SYN), TLS 1.3's one, and the
    /// request's own (saved when the request rides in early data and is answered from it). HTTP/2's preface and settings
    /// go with the request, so gRPC counts as HTTPS does.
    /// </summary>
    public int LimitInRoundTrips => (Https ? 3 : 2) - (SavesRoundTrip ? 1 : 0) - (Client.AnsweredFromEarlyData ? 1 : 0);

    /// <summary>
    /// For a proxied scenario, the fewest round trips on the proxy's leg to the backend over a new connection: plain
    /// HTTP/1.1, the handshake's, saved by TCP Fast Open, and the request's; with <see cref="BackendEarlyData"/>, over TLS
    /// 1.3 with the ClientHello in the SYN, the request's alone when it rides as early data, and TLS's too when the
    /// proxy took it as early data itself: then it may be a replay, goes on marked <c>Early-Data: 1</c>, and never early.
    /// Zero without a proxy.
    /// </summary>
    public int BackendLimitInRoundTrips =>
        !Proxied ? 0 : Transport == BenchmarkTransport.Default ? 2 : BackendEarlyData && Client.AnsweredFromEarlyData ? 2 : 1;

    /// <summary>The most round trips a connection needs without any saving, both legs: what a run's time bound counts.</summary>
    public int MostRoundTrips => (Https ? 3 : 2) + (Proxied ? (BackendEarlyData ? 3 : 2) : 0);
}
