using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>The benchmark's output: Markdown for people and JSON for machines, from the same runs.</summary>
internal static class Report
{
    public const double TargetRatio = 0.98;
    public const string DefaultTransport = "Kestrel default";
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static double Ratio(RunResult candidate, RunResult baseline) => candidate.RequestsPerSecond / baseline.RequestsPerSecond;

    public static string Transport(ServerKind kind) => kind switch
    {
        ServerKind.Default => DefaultTransport,
        ServerKind.FastOpenFlag => "KestrelTfo (Flag)",
        _ => "KestrelTfo (Defer)",
    };

    public static string Markdown(IReadOnlyList<Scenario> scenarios, IReadOnlyList<RunResult> runs, Settings settings, Machine machine)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Requests per second for a 13-byte plaintext response, candidate / baseline (KestrelTfo / Kestrel's default socket transport, or KestrelTfo under Defer / under Flag), same app, alternating runs (baseline, candidate) × {settings.Pairs} pairs of {settings.Duration.TotalSeconds:0} s, Release. `{settings.Command}`"));
        text.AppendLine();
        text.AppendLine(Invariant($"Machine: {machine}. {settings.PinningDescription}"));
        text.AppendLine();
        text.AppendLine("| scenario | load | baseline | baseline req/s | candidate | candidate req/s | ratio per pair | median ratio | ≥ 0.98 |");
        text.AppendLine("|---|---|---|---:|---|---:|---|---:|---|");
        foreach (var scenario in scenarios)
        {
            var (baseline, candidate, ratios) = Pairs(scenario, runs);
            var median = Median(ratios);
            text.AppendLine(Invariant(
                $"| {scenario.Name} | {scenario.LoadDescription(settings.KeepAliveConnections, settings.ChurnConnections)} | {Transport(scenario.Baseline)} | {Median(baseline.Select(r => r.RequestsPerSecond)):N0} | {Transport(scenario.Candidate)} | {Median(candidate.Select(r => r.RequestsPerSecond)):N0} | {string.Join(' ', ratios.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))} | **{median:F3}** | {(median >= TargetRatio ? "yes" : "no")} |"));
        }

        text.AppendLine();
        text.AppendLine("Cost per request in the server process (runtime counters: `GC.GetTotalAllocatedBytes(precise: true)` and `Process.TotalProcessorTime` deltas over each run, divided by the requests the app answered; median of the runs). Under `Connection: close` every request is a new connection, so the churn rows are the cost per connection including its one request.");
        text.AppendLine();
        text.AppendLine("| scenario | transport | bytes allocated / request | CPU µs / request | SYN data accepted | errors |");
        text.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var scenario in scenarios)
        {
            var (baseline, candidate, _) = Pairs(scenario, runs);
            foreach (var side in new[] { baseline, candidate })
            {
                text.AppendLine(Invariant(
                    $"| {scenario.Name} | {side[0].Transport} | {Median(side.Select(r => r.AllocatedBytesPerRequest)):N0} | {Median(side.Select(r => r.CpuMicrosecondsPerRequest)):F1} | {Median(side.Select(r => r.SynDataFraction)) * 100:F0}% | {side.Sum(r => r.Errors)} |"));
            }
        }

        return text.ToString();
    }

    public static string Json(IReadOnlyList<Scenario> scenarios, IReadOnlyList<RunResult> runs, Settings settings, Machine machine) =>
        JsonSerializer.Serialize(
            new
            {
                command = settings.Command,
                machine,
                settings = new
                {
                    settings.Pairs,
                    durationSeconds = settings.Duration.TotalSeconds,
                    settings.KeepAliveConnections,
                    settings.ChurnConnections,
                    settings.ClientCpus,
                    pinning = settings.PinningDescription,
                },
                targetRatio = TargetRatio,
                scenarios = scenarios.Select(scenario =>
                {
                    var (baseline, candidate, ratios) = Pairs(scenario, runs);
                    return new
                    {
                        name = scenario.Name,
                        load = scenario.LoadDescription(settings.KeepAliveConnections, settings.ChurnConnections),
                        baseline = Transport(scenario.Baseline),
                        candidate = Transport(scenario.Candidate),
                        medianRatio = Median(ratios),
                        ratios,
                        baselineAllocatedBytesPerRequest = Median(baseline.Select(r => r.AllocatedBytesPerRequest)),
                        candidateAllocatedBytesPerRequest = Median(candidate.Select(r => r.AllocatedBytesPerRequest)),
                        baselineCpuMicrosecondsPerRequest = Median(baseline.Select(r => r.CpuMicrosecondsPerRequest)),
                        candidateCpuMicrosecondsPerRequest = Median(candidate.Select(r => r.CpuMicrosecondsPerRequest)),
                        runs = baseline.Concat(candidate).OrderBy(r => r.Pair),
                    };
                }),
            },
            s_json);

    private static (RunResult[] Baseline, RunResult[] Candidate, double[] Ratios) Pairs(Scenario scenario, IReadOnlyList<RunResult> runs)
    {
        var baseline = runs.Where(r => r.Scenario == scenario.Name && r.Transport == Transport(scenario.Baseline)).OrderBy(r => r.Pair).ToArray();
        var candidate = runs.Where(r => r.Scenario == scenario.Name && r.Transport == Transport(scenario.Candidate)).OrderBy(r => r.Pair).ToArray();
        return (baseline, candidate, baseline.Zip(candidate, (b, c) => Ratio(c, b)).ToArray());
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
