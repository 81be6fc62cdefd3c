namespace KestrelTfo.FleetBenchmark;

/// <summary>One worker's way of opening a new connection to the fleet, with whatever it keeps from one to the next.</summary>
internal interface ILoadConnection : IDisposable
{
    /// <summary>Opens one new connection, makes one request, and counts it in <paramref name="phase"/>: failed, or answered with or without the round trip saved.</summary>
    Task ConnectOnceAsync(LoadPhase phase);
}
