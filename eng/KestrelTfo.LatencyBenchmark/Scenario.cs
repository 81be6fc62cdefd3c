namespace KestrelTfo.LatencyBenchmark;

/// <summary>One measured combination: which server transport, which client, which protocol.</summary>
internal sealed record Scenario(string Server, IFirstByteClient Client, bool Https, bool ServerHasFastOpen)
{
    public string Protocol => Https ? "HTTPS (TLS 1.3)" : "HTTP/1.1";

    /// <summary>
    /// The fewest round trips physics allows to the first response byte: the handshake's one (saved when the request
    /// or ClientHello rides in the SYN), TLS 1.3's one, and the request's own.
    /// </summary>
    public int LimitInRoundTrips => (Https ? 3 : 2) - (ServerHasFastOpen && Client.FastOpen ? 1 : 0);
}
