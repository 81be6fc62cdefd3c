namespace KestrelTfo.LatencyBenchmark;

/// <summary>Which transport the benchmark's servers run on.</summary>
internal enum BenchmarkTransport
{
    /// <summary>Kestrel's own socket transport: no <c>TCP_FASTOPEN</c> on its listeners.</summary>
    Default,

    /// <summary>KestrelTfo under its default early-data policy, Flag: data in a SYN reaches the app at once.</summary>
    FastOpen,

    /// <summary>
    /// KestrelTfo under the Defer policy with the kernel filter: a SYN's data that is not a ClientHello is trimmed, so
    /// the client's kernel sends it again after the handshake and plaintext requests take the default's round trips.
    /// </summary>
    FastOpenDefer,

    /// <summary>
    /// Not Kestrel: nginx 1.22 (Debian's, on OpenSSL 3) with <c>listen ... fastopen=256</c> and <c>ssl_early_data on</c>,
    /// the server whose one round trip for a returning client's GET KestrelTfo is compared with (see NginxServer).
    /// </summary>
    Nginx,
}
