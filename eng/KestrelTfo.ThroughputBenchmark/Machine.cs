using System.Runtime.InteropServices;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>What the numbers were measured on.</summary>
internal sealed record Machine(int Cpus, string CpuModel, string Kernel, string Runtime, string LoadAverageBefore)
{
    public string LoadAverageAfter { get; set; } = "";

    public static Machine Describe() => new(
        // The machine's CPUs, not this process's affinity (the launcher may pin it to one).
        File.ReadAllLines("/proc/cpuinfo").Count(line => line.StartsWith("processor", StringComparison.Ordinal)),
        File.ReadAllLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown",
        $"Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}",
        RuntimeInformation.FrameworkDescription,
        LoadAverage());

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public override string ToString() =>
        $"{Cpus} CPUs ({CpuModel}), {Kernel}, {Runtime}; load average before {LoadAverageBefore}, after {LoadAverageAfter}";
}
