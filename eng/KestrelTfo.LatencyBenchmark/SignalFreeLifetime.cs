namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// A host lifetime that leaves the process's signals alone, for a benchmark that starts its servers in process:
/// Ctrl+C and SIGTERM then end the benchmark as they end any program.
/// </summary>
/// <remarks>
/// The default console lifetime takes SIGINT, SIGQUIT and SIGTERM for itself and only asks the host to stop, which a
/// host started with <c>StartAsync</c> and never awaited ignores: the benchmark would go on measuring. What the
/// benchmarks make (sockets, the emulated link's namespaces and devices) goes with the process.
/// </remarks>
internal sealed class SignalFreeLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
