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
}
