namespace KestrelTfo.ThroughputBenchmark;

/// <summary>How a scenario loads the server.</summary>
internal enum LoadKind
{
    /// <summary>wrk, persistent connections.</summary>
    WrkKeepAlive,

    /// <summary>wrk with <c>Connection: close</c>: a new connection per request, without TCP Fast Open.</summary>
    WrkClose,

    /// <summary>The churn client with <c>TCP_FASTOPEN_CONNECT</c>: a new connection per request, the request in the SYN.</summary>
    FastOpenClient,

    /// <summary>The churn client without TCP Fast Open, for comparison with <see cref="FastOpenClient"/>.</summary>
    PlainClient,
}
