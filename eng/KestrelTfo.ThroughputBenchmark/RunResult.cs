namespace KestrelTfo.ThroughputBenchmark;

/// <summary>One timed run of a scenario against one server.</summary>
/// <param name="RequestsPerSecond">As the load generator measured it.</param>
/// <param name="Errors">Failed connections or non-2xx answers the load generator saw.</param>
/// <param name="ServerRequests">Requests the app answered during the run.</param>
/// <param name="AllocatedBytesPerRequest">Bytes the server process allocated per answered request.</param>
/// <param name="CpuMicrosecondsPerRequest">Server process CPU time per answered request.</param>
/// <param name="SynDataFraction">Share of answered requests whose connection's SYN data the server accepted.</param>
internal sealed record RunResult(
    string Scenario,
    string Transport,
    int Pair,
    double RequestsPerSecond,
    long Errors,
    long ServerRequests,
    double AllocatedBytesPerRequest,
    double CpuMicrosecondsPerRequest,
    double SynDataFraction);
