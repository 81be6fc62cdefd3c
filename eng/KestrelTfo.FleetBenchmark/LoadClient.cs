namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// Opens new connections to the fleet's service address continuously from the client's namespace, a few at a time, each
/// through a worker's own <see cref="ILoadConnection"/>, and counts each in the phase it started in.
/// </summary>
internal sealed class LoadClient(Func<ILoadConnection> newConnection)
{
    private LoadPhase? _phase;

    /// <summary>Starts counting in a new phase and ends the one before.</summary>
    public LoadPhase Begin(string name)
    {
        var phase = new LoadPhase(name);
        Interlocked.Exchange(ref _phase, phase)?.End();
        return phase;
    }

    /// <summary>Runs <paramref name="workers"/> connections at a time until <paramref name="stop"/>; ones in flight finish.</summary>
    public Task RunAsync(int workers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(stop), CancellationToken.None)));

    private async Task WorkAsync(CancellationToken stop)
    {
        using var connection = newConnection();
        while (!stop.IsCancellationRequested)
        {
            var phase = Volatile.Read(ref _phase) ?? throw new InvalidOperationException("no phase begun");
            await connection.ConnectOnceAsync(phase).ConfigureAwait(false);
        }
    }
}
