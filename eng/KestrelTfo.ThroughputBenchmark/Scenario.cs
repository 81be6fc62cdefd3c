namespace KestrelTfo.ThroughputBenchmark;

/// <summary>
/// One side-by-side comparison: the same load against a baseline (Kestrel's default transport, unless given) and a
/// candidate (KestrelTfo under one policy).
/// </summary>
/// <param name="Loops">The churn client's concurrent loops, when not the command line's: one loop gives the steadiest
/// cost per connection, each connection's work completing the same way every time.</param>
/// <param name="Baseline">What the candidate is compared with: KestrelTfo under Flag, to isolate what Defer adds (its
/// kernel filter, which accepted sockets inherit and run on every segment).</param>
internal sealed record Scenario(string Name, LoadKind Load, ServerKind Candidate, int? Loops = null, ServerKind Baseline = ServerKind.Default)
{
    public int ChurnConnections(int churnConnections) => Loops ?? churnConnections;

    public string LoadDescription(int keepAliveConnections, int churnConnections)
    {
        var loops = ChurnConnections(churnConnections);
        var client = $"churn client, {loops} {(loops == 1 ? "loop" : "loops")}";
        return Load switch
        {
            LoadKind.WrkKeepAlive => $"wrk -t1 -c{keepAliveConnections}, keep-alive",
            LoadKind.WrkClose => $"wrk -t1 -c{loops} -H 'Connection: close'",
            LoadKind.FastOpenClient => $"{client}, TCP_FASTOPEN_CONNECT",
            _ => $"{client}, plain connect",
        };
    }
}
