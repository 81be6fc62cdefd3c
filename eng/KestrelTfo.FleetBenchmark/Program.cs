using System.Globalization;
using KestrelTfo.Fleet;
using KestrelTfo.FleetBenchmark;

// TCP Fast Open across a fleet of the sample behind one service address: the share of new connections that ride in the
// SYN per balancer and key setting (matrix), and failures and that share through a rolling restart and a three-step key
// rotation under load (rolling); then the same for TLS 1.3 early data with shared and own ticket keys (early-data). Run it through eng/bench-fleet.sh, which builds it and the sample and runs it as root.
const string Usage = "usage: eng/bench-fleet.sh [--scenario all|matrix|rolling|early-data] [--connections 60] [--workers 4] [--settle 2] [--output artifacts/fleet]";
string[] known = ["--scenario", "--connections", "--workers", "--settle", "--output", "--app", "--command"];
var names = args.Chunk(2).Select(pair => pair[0]).ToArray();
if (args.Length % 2 != 0 || names.Any(name => !known.Contains(name)) || names.Distinct().Count() != names.Length)
{
    Console.Error.WriteLine($"bench-fleet: unknown, repeated or incomplete argument in '{string.Join(' ', args)}'");
    Console.Error.WriteLine(Usage);
    return 2;
}

var settings = args.Chunk(2).ToDictionary(pair => pair[0][2..], pair => pair[1]);
var scenario = settings.GetValueOrDefault("scenario") ?? "all";
int Number(string name, int fallback) => int.TryParse(settings.GetValueOrDefault(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : settings.ContainsKey(name) ? -1 : fallback;
var connections = Number("connections", 60);
var workers = Number("workers", 4);
var settle = Number("settle", 2);
if (scenario is not ("all" or "matrix" or "rolling" or "early-data") || connections is < 1 or > 10_000 || workers is < 1 or > 64 || settle is < 1 or > 600)
{
    Console.Error.WriteLine("bench-fleet: --scenario is all, matrix, rolling or early-data; --connections takes 1 to 10000, --workers 1 to 64, --settle 1 to 600 (seconds)");
    Console.Error.WriteLine(Usage);
    return 2;
}

if (settings.GetValueOrDefault("app") is not { } app || !File.Exists(app))
{
    Console.Error.WriteLine("bench-fleet: --app names the sample's HelloFastOpen.dll; run it through eng/bench-fleet.sh, which builds it");
    return 2;
}

if (EmulatedFleet.UnavailableReason is { } reason)
{
    Console.Error.WriteLine($"bench-fleet: {reason}");
    return 2;
}

var output = settings.GetValueOrDefault("output") ?? "artifacts/fleet";
Directory.CreateDirectory(output);
var command = settings.GetValueOrDefault("command") ?? "eng/bench-fleet.sh";
FleetOptions Options(FleetBalancer balancer, bool shared) => new()
{
    DotNetHost = Environment.ProcessPath!,
    AppPath = app,
    Balancer = balancer,
    SharedKeys = shared,
};
FleetOptions HttpsOptions(FleetBalancer balancer, bool shared) => new()
{
    DotNetHost = Environment.ProcessPath!,
    AppPath = app,
    Balancer = balancer,
    SharedKeys = shared,
    HttpsPort = FleetOptions.DefaultHttpsPort,
};

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var report = new List<string>
{
    "# TCP Fast Open across a fleet",
    "",
    $"`{command}` on Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}: three instances of samples/HelloFastOpen, each in its own network namespace, behind a router namespace.",
    "",
};
if (scenario is "all" or "matrix")
{
    report.Add("## Share of new connections that ride in the SYN, by balancer and key");
    report.Add("");
    report.Add(await MatrixScenario.RunAsync(Options, connections, cancel.Token));
}

if (scenario is "all" or "rolling")
{
    report.Add(string.Create(CultureInfo.InvariantCulture,
        $"## Rolling restart and key rotation under load (ECMP, one shared key, {workers} connections at a time, {settle} s after each step)"));
    report.Add("");
    report.Add(await RollingScenario.RunAsync(Options(FleetBalancer.Ecmp, true), earlyData: false, workers, TimeSpan.FromSeconds(settle), cancel.Token));
}

if (scenario is "all" or "early-data")
{
    report.Add("## TLS 1.3 early data accepted, by balancer and ticket key");
    report.Add("");
    report.Add(await EarlyDataMatrixScenario.RunAsync(HttpsOptions, connections, cancel.Token));
    report.Add(string.Create(CultureInfo.InvariantCulture,
        $"## TLS 1.3 early data through a rolling restart and ticket key rotation under load (ECMP, one shared ticket key, {workers} connections at a time, {settle} s after each step)"));
    report.Add("");
    report.Add(await RollingScenario.RunAsync(HttpsOptions(FleetBalancer.Ecmp, true), earlyData: true, workers, TimeSpan.FromSeconds(settle), cancel.Token));
}

var markdown = string.Join('\n', report);
await File.WriteAllTextAsync(Path.Combine(output, "fleet.md"), markdown);
Console.WriteLine(markdown);
return 0;
