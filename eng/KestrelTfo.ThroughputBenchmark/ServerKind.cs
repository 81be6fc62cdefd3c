namespace KestrelTfo.ThroughputBenchmark;

/// <summary>Which transport serves the benchmark app.</summary>
internal enum ServerKind
{
    /// <summary>Kestrel's own socket transport.</summary>
    Default,

    /// <summary>KestrelTfo with the early-data guard's Flag policy.</summary>
    FastOpenFlag,

    /// <summary>KestrelTfo with the early-data guard's Defer policy.</summary>
    FastOpenDefer,
}
