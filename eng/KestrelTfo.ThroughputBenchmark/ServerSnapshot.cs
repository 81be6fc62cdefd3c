using System.Diagnostics;
using KestrelTfo.Platform;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>
/// The benchmark process's own counters at one moment: bytes allocated (<see cref="GC.GetTotalAllocatedBytes"/>,
/// precise), CPU time used, requests answered, and the kernel's count of SYNs whose data a listener accepted
/// (TcpExt TCPFastOpenPassive, exact here because the benchmark has its network namespace to itself).
/// </summary>
internal readonly record struct ServerSnapshot(long AllocatedBytes, TimeSpan ProcessorTime, long Requests, long SynDataAccepted)
{
    public static ServerSnapshot Take(PlaintextServer server, LinuxNetstat netstat)
    {
        using var process = Process.GetCurrentProcess();
        var passive = netstat.TryRead(out var counters) ? counters[TcpFastOpenCounter.Passive] : 0;
        return new ServerSnapshot(GC.GetTotalAllocatedBytes(precise: true), process.TotalProcessorTime, server.Requests, passive);
    }
}
