using System.Diagnostics;
using System.Globalization;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>
/// The benchmark process's own counters at one moment: bytes allocated (<see cref="GC.GetTotalAllocatedBytes"/>,
/// precise), CPU time used, requests answered, and the kernel's count of SYNs whose data a listener accepted
/// (TcpExt TCPFastOpenPassive, exact here because the benchmark has its network namespace to itself).
/// </summary>
internal readonly record struct ServerSnapshot(long AllocatedBytes, TimeSpan ProcessorTime, long Requests, long SynDataAccepted)
{
    public static ServerSnapshot Take(PlaintextServer server)
    {
        using var process = Process.GetCurrentProcess();
        return new ServerSnapshot(GC.GetTotalAllocatedBytes(precise: true), process.TotalProcessorTime, server.Requests, ReadFastOpenPassive());
    }

    private static long ReadFastOpenPassive()
    {
        // Two "TcpExt:" lines: names, then values in the same order.
        var lines = File.ReadAllLines("/proc/net/netstat").Where(line => line.StartsWith("TcpExt:", StringComparison.Ordinal)).ToArray();
        var names = lines[0].Split(' ');
        var values = lines[1].Split(' ');
        var index = Array.IndexOf(names, "TCPFastOpenPassive");
        return index < 0 ? 0 : long.Parse(values[index], CultureInfo.InvariantCulture);
    }
}
