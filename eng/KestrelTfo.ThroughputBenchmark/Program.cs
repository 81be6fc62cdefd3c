using System.Globalization;
using System.Net;
using KestrelTfo.Platform;
using KestrelTfo.ThroughputBenchmark;

// Throughput, connection churn and cost per connection: the same plaintext app on Kestrel's default socket transport
// and on KestrelTfo, side by side, and KestrelTfo under Defer against Flag for the cost of Defer's kernel filter. Run it through eng/bench-throughput.sh, which builds it in Release and runs it as
// root in a private network namespace with net.ipv4.tcp_fastopen=3.
//   run:  [--pairs 10] [--duration 3] [--warmup 2] [--keepalive-connections 32] [--churn-connections 32]
//         [--client-cpus 1] [--output artifacts/bench] [--only scenario-id,...]
//   load: the churn client as its own process: --target ip:port --connections N --duration S --fastopen true|false
if (args.Length > 0 && args[0] == "load")
{
    var values = args.Skip(1).Chunk(2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
    var client = new ChurnClient(IPEndPoint.Parse(values["target"]), bool.Parse(values["fastopen"]));
    var (requests, errors, seconds) = await client.RunAsync(
        int.Parse(values["connections"], CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(double.Parse(values["duration"], CultureInfo.InvariantCulture)));
    Console.WriteLine(FormattableString.Invariant($"{requests} {errors} {seconds:R}"));
    return 0;
}

var settings = Settings.Parse(args);
// The launcher names the private namespace it made. Comparing with /proc/1/ns/net instead would not do: where that
// link is unreadable (as on this project's machines), the comparison never matches and the check never fires.
if (Environment.GetEnvironmentVariable("KESTRELTFO_BENCH_NETNS") is not { Length: > 0 } made || made != new FileInfo("/proc/self/ns/net").LinkTarget)
{
    Console.Error.WriteLine("bench-throughput: run it in a private network namespace (eng/bench-throughput.sh does), not the host's");
    return 2;
}

if (!LinuxFastOpenSysctl.TryRead(out var tcpFastOpen, out _) || tcpFastOpen != 3)
{
    Console.Error.WriteLine("bench-throughput: net.ipv4.tcp_fastopen must be 3 in the benchmark's namespace");
    return 2;
}

var machine = Machine.Describe();
using var netstat = new LinuxNetstat();
Scenario[] scenarios =
[
    new("keep-alive", LoadKind.WrkKeepAlive, ServerKind.FastOpenFlag),
    new("churn, Flag", LoadKind.WrkClose, ServerKind.FastOpenFlag),
    new("churn, Defer", LoadKind.WrkClose, ServerKind.FastOpenDefer),
    new("churn, plain client, Flag", LoadKind.PlainClient, ServerKind.FastOpenFlag),
    new("churn, TFO client, Flag", LoadKind.FastOpenClient, ServerKind.FastOpenFlag),
    new("churn, TFO client, Defer", LoadKind.FastOpenClient, ServerKind.FastOpenDefer),
    new("cost, plain client", LoadKind.PlainClient, ServerKind.FastOpenFlag, Loops: 1),
    new("cost, TFO client", LoadKind.FastOpenClient, ServerKind.FastOpenFlag, Loops: 1),
    // Defer against Flag: on connections without SYN data the two differ only by Defer's kernel filter, which every
    // accepted socket inherits and runs on each incoming segment.
    new("filter, keep-alive", LoadKind.WrkKeepAlive, ServerKind.FastOpenDefer, Baseline: ServerKind.FastOpenFlag),
    new("filter, churn", LoadKind.WrkClose, ServerKind.FastOpenDefer, Baseline: ServerKind.FastOpenFlag),
    new("filter, cost", LoadKind.PlainClient, ServerKind.FastOpenDefer, Loops: 1, Baseline: ServerKind.FastOpenFlag),
];
if (settings.Only.Length > 0)
{
    scenarios = scenarios.Where((_, index) => settings.Only.Contains((index + 1).ToString(CultureInfo.InvariantCulture))).ToArray();
}

// A loopback address per server: each has its own TFO cookie, and no run's TIME_WAIT sockets meet another's.
var servers = new Dictionary<ServerKind, PlaintextServer>();
foreach (var (kind, octet) in new[] { (ServerKind.Default, 1), (ServerKind.FastOpenFlag, 2), (ServerKind.FastOpenDefer, 3) })
{
    servers[kind] = await PlaintextServer.StartAsync(IPAddress.Parse($"127.77.0.{octet}"), kind);
}

var runs = new List<RunResult>();
try
{
    foreach (var scenario in scenarios)
    {
        // Warm both up (JIT tiers, pools, the TFO cookie) before anything is timed.
        foreach (var kind in new[] { scenario.Baseline, scenario.Candidate })
        {
            await LoadAsync(scenario, servers[kind], settings.Warmup);
        }

        for (var pair = 1; pair <= settings.Pairs; pair++)
        {
            foreach (var kind in new[] { scenario.Baseline, scenario.Candidate })
            {
                var result = await MeasureAsync(scenario, servers[kind], pair);
                runs.Add(result);
                Console.WriteLine(FormattableString.Invariant(
                    $"{scenario.Name,-28} pair {pair} {result.Transport,-20} {result.RequestsPerSecond,10:F0} req/s {result.AllocatedBytesPerRequest,8:F0} B/req {result.CpuMicrosecondsPerRequest,7:F1} µs/req syn-data {result.SynDataFraction:P0} errors {result.Errors}"));
            }
        }
    }
}
finally
{
    foreach (var server in servers.Values)
    {
        await server.DisposeAsync();
    }
}

machine.LoadAverageAfter = Machine.LoadAverage();
Directory.CreateDirectory(settings.Output);
var markdown = Report.Markdown(scenarios, runs, settings, machine);
await File.WriteAllTextAsync(Path.Combine(settings.Output, "throughput.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(settings.Output, "throughput.json"), Report.Json(scenarios, runs, settings, machine));
Console.WriteLine();
Console.WriteLine(markdown);
return 0;

async Task<RunResult> MeasureAsync(Scenario scenario, PlaintextServer server, int pair)
{
    // Start from a collected heap so a run does not pay for the previous run's garbage.
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var before = ServerSnapshot.Take(server, netstat);
    var (rps, errors) = await LoadAsync(scenario, server, settings.Duration);
    var after = ServerSnapshot.Take(server, netstat);
    var requests = Math.Max(1, after.Requests - before.Requests);
    return new RunResult(
        scenario.Name,
        Report.Transport(server.Kind),
        pair,
        rps,
        errors,
        after.Requests - before.Requests,
        (double)(after.AllocatedBytes - before.AllocatedBytes) / requests,
        (after.ProcessorTime - before.ProcessorTime).TotalMicroseconds / requests,
        (double)(after.SynDataAccepted - before.SynDataAccepted) / requests);
}

async Task<(double RequestsPerSecond, long Errors)> LoadAsync(Scenario scenario, PlaintextServer server, TimeSpan duration)
{
    switch (scenario.Load)
    {
        case LoadKind.WrkKeepAlive or LoadKind.WrkClose:
            var close = scenario.Load == LoadKind.WrkClose;
            var wrk = await WrkRunner.RunAsync(server.EndPoint, close ? settings.ChurnConnections : settings.KeepAliveConnections, duration, close, settings.ClientCpus);
            return (wrk.RequestsPerSecond, wrk.Errors);

        default:
            var output = await ProcessRunner.RunAsync(
                "dotnet",
                [typeof(ChurnClient).Assembly.Location, "load", "--target", server.EndPoint.ToString(), "--connections",
                    scenario.ChurnConnections(settings.ChurnConnections).ToString(CultureInfo.InvariantCulture), "--duration", duration.TotalSeconds.ToString(CultureInfo.InvariantCulture),
                    "--fastopen", (scenario.Load == LoadKind.FastOpenClient).ToString()],
                settings.ClientCpus,
                duration + TimeSpan.FromSeconds(30));
            var fields = output.Trim().Split(' ');
            var requests = long.Parse(fields[0], CultureInfo.InvariantCulture);
            return (requests / double.Parse(fields[2], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
    }
}
