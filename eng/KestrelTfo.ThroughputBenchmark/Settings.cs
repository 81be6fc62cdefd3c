using System.Globalization;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>The command line of a benchmark run.</summary>
internal sealed record Settings(
    int Pairs,
    TimeSpan Duration,
    TimeSpan Warmup,
    int KeepAliveConnections,
    int ChurnConnections,
    string? ClientCpus,
    string Output,
    string Command,
    string[] Only)
{
    public string PinningDescription => ClientCpus is null
        ? "No CPU pinning."
        : $"The server process runs on the CPUs not given to the load generator, which runs on CPU {ClientCpus} (taskset); both at the launcher's nice level.";

    public static Settings Parse(string[] args)
    {
        var values = args.Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
        int Int(string name, int fallback) => values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
        return new Settings(
            Int("pairs", 10),
            TimeSpan.FromSeconds(Int("duration", 3)),
            TimeSpan.FromSeconds(Int("warmup", 2)),
            Int("keepalive-connections", 32),
            Int("churn-connections", 32),
            values.GetValueOrDefault("client-cpus") is { Length: > 0 } cpus ? cpus : null,
            values.GetValueOrDefault("output") ?? "artifacts/bench",
            values.GetValueOrDefault("command") ?? "eng/bench-throughput.sh",
            (values.GetValueOrDefault("only") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries));
    }
}
