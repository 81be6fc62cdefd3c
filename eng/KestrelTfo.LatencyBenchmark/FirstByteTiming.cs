using System.Diagnostics;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>One timed connection: when it was opened and when its first response byte arrived, as
/// <see cref="Stopwatch"/> timestamps, and the client's port, which finds its segments in the link's trace.</summary>
internal readonly record struct FirstByteTiming(long Opened, long FirstByte, int ClientPort)
{
    public double Milliseconds => Stopwatch.GetElapsedTime(Opened, FirstByte).TotalMilliseconds;
}
