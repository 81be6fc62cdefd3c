using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;

// Time to first response byte on new connections over an emulated WAN link: Kestrel's default transport with a
// plain and a TFO client, and KestrelTfo with a TFO client, over HTTP/1.1 and HTTPS (TLS 1.3). Run it through
// eng/bench-latency.sh, which builds it in Release and runs it as root in a private network namespace.
const string Usage = "usage: eng/bench-latency.sh [--rtt 10,50,100] [--connections 40] [--warmup 10] [--output artifacts/latency]";
var names = args.Chunk(2).Select(pair => pair[0]).ToArray();
if (args.Length % 2 != 0 || names.Any(name => name is not ("--rtt" or "--connections" or "--warmup" or "--output" or "--command")) || names.Distinct().Count() != names.Length)
{
    var given = args.Chunk(2).Where(pair => pair[0] != "--command").SelectMany(pair => pair);
    Console.Error.WriteLine($"bench-latency: unknown, repeated or incomplete argument in '{string.Join(' ', given)}'");
    Console.Error.WriteLine(Usage);
    return 2;
}

var settings = args.Chunk(2).ToDictionary(pair => pair[0][2..], pair => pair[1]);
var rtts = (settings.GetValueOrDefault("rtt") ?? "10,50,100").Split(',').Select(value =>
    double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rtt) && rtt is > 0 and <= 10_000 ? rtt : double.NaN).ToArray();
var connections = int.TryParse(settings.GetValueOrDefault("connections") ?? "40", CultureInfo.InvariantCulture, out var count) ? count : 0;
// The first connection of each scenario only fetches the TFO cookie, so at least one must be a warm-up.
var warmup = int.TryParse(settings.GetValueOrDefault("warmup") ?? "10", CultureInfo.InvariantCulture, out var warm) ? warm : 0;
if (rtts.Any(double.IsNaN) || rtts.Distinct().Count() != rtts.Length || connections is < 1 or > 10_000 || warmup is < 1 or > 10_000)
{
    Console.Error.WriteLine("bench-latency: --rtt takes different milliseconds above 0 and up to 10000, comma-separated; --connections and --warmup take 1 to 10000");
    Console.Error.WriteLine(Usage);
    return 2;
}

var output = settings.GetValueOrDefault("output") ?? "artifacts/latency";
var command = settings.GetValueOrDefault("command") ?? "eng/bench-latency.sh";
try
{
    // Before the run, not after it: a path that cannot be written should not cost minutes of measuring.
    Directory.CreateDirectory(output);
}
catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"bench-latency: --output '{output}': {exception.Message}");
    return 2;
}

if (EmulatedLink.UnavailableReason is { } reason)
{
    Console.Error.WriteLine($"bench-latency: {reason}");
    return 2;
}

// The server side of each link is this process's namespace: the launcher names the private one it made, and the
// benchmark runs only there, never in the host's.
if (Environment.GetEnvironmentVariable("KESTRELTFO_BENCH_NETNS") is not { Length: > 0 } made || made != new FileInfo("/proc/self/ns/net").LinkTarget)
{
    Console.Error.WriteLine("bench-latency: run it through eng/bench-latency.sh, which runs it in a private network namespace");
    return 2;
}

// BENCH_SHALLOW_IDLE=0 measures with the CPUs' deep idle states allowed (see ShallowCpuIdle).
string? idleReason = "BENCH_SHALLOW_IDLE=0";
using var shallowIdle = Environment.GetEnvironmentVariable("BENCH_SHALLOW_IDLE") == "0" ? null : ShallowCpuIdle.TryHold(out idleReason);
if (shallowIdle is null)
{
    Console.Error.WriteLine($"bench-latency: CPUs may enter deep idle states ({idleReason}); expect a few tenths of a millisecond more per round trip on a virtual machine");
}

using var certificate = BenchmarkCertificate.Create();
var plain = new SocketClient(fastOpen: false, certificate);
var fastOpen = new SocketClient(fastOpen: true, certificate);

// What a .NET caller gets: SocketsHttpHandler's own connect, and KestrelTfo.Client's TFO connect callback.
var httpClient = new HttpClientFirstByteClient(fastOpen: false, certificate);
var httpClientFastOpen = new HttpClientFirstByteClient(fastOpen: true, certificate);
const string DefaultTransport = "Kestrel default";
const string FastOpenTransport = "KestrelTfo";

const int TraceCapacity = 4096;
var results = new List<ScenarioResult>();
foreach (var rtt in rtts)
{
    // A bound for a stalled run: twice the 21 round trips one round of the ten scenarios needs, plus a margin.
    using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds((warmup + connections) * 2 * 21 * (rtt + 1)) + TimeSpan.FromMinutes(2));
    // One link per server, so each has an address of its own: the kernel caches TFO cookies per destination address.
    // Traced, so each connection's time splits into the client's, the server's and the link's (see TimeSplit). The
    // trace is drained after every connection; a connection and the probes before it take a few dozen segments.
    using var defaultLink = EmulatedLink.Start(new EmulatedLinkOptions { TraceCapacity = TraceCapacity }.WithRoundTripTime(TimeSpan.FromMilliseconds(rtt)));
    using var fastOpenLink = EmulatedLink.Start(new EmulatedLinkOptions { TraceCapacity = TraceCapacity }.WithRoundTripTime(TimeSpan.FromMilliseconds(rtt)));
    await using var defaultServer = await BenchmarkServer.StartAsync(defaultLink.ServerAddress, fastOpen: false, certificate);
    await using var fastOpenServer = await BenchmarkServer.StartAsync(fastOpenLink.ServerAddress, fastOpen: true, certificate);
    using var defaultPath = new PathRoundTripProbe(defaultLink);
    using var fastOpenPath = new PathRoundTripProbe(fastOpenLink);

    var cases = new List<(Scenario Scenario, EmulatedLink Link, PathRoundTripProbe Path, IPEndPoint Server, List<double> Samples, List<TimeSplit?> Splits)>();
    foreach (var https in new[] { false, true })
    {
        cases.Add((new Scenario(DefaultTransport, plain, https, false), defaultLink, defaultPath, https ? defaultServer.Https : defaultServer.Http, [], []));
        cases.Add((new Scenario(DefaultTransport, fastOpen, https, false), defaultLink, defaultPath, https ? defaultServer.Https : defaultServer.Http, [], []));
        cases.Add((new Scenario(FastOpenTransport, fastOpen, https, true), fastOpenLink, fastOpenPath, https ? fastOpenServer.Https : fastOpenServer.Http, [], []));
        cases.Add((new Scenario(DefaultTransport, httpClient, https, false), defaultLink, defaultPath, https ? defaultServer.Https : defaultServer.Http, [], []));
        cases.Add((new Scenario(FastOpenTransport, httpClientFastOpen, https, true), fastOpenLink, fastOpenPath, https ? fastOpenServer.Https : fastOpenServer.Http, [], []));
    }

    Console.WriteLine($"RTT {rtt} ms: {warmup} warm-up and {connections} measured connections per scenario");
    // Interleaved, one connection at a time: every scenario sees the same moments of a busy machine.
    for (var round = 0; round < warmup + connections; round++)
    {
        defaultPath.Measure();
        fastOpenPath.Measure();
        foreach (var (scenario, link, _, server, samples, splits) in cases)
        {
            // Its first socket is made before the clock starts, so the emulator's namespace hop is not timed.
            using var sockets = new ClientSocketSource(link);
            var missed = link.Trace!.Missed;
            var timing = await scenario.Client.TimeToFirstByteAsync(sockets.Take, server, scenario.Https, timeout.Token);
            var trace = link.Trace.Drain();
            if (round >= warmup)
            {
                samples.Add(timing.Milliseconds);
                // A full trace may have lost any of the connection's segments.
                splits.Add(link.Trace.Missed == missed ? TimeSplit.Of(timing, trace) : null);
            }
        }
    }

    // The path's RTT over the whole run, warm-up included: it is the link's, not the scenarios'.
    results.AddRange(cases.Select(c => new ScenarioResult(rtt, c.Path.Samples.ToArray(), c.Scenario, c.Samples, c.Splits)));
}

var shallow = shallowIdle is not null;
var markdown = Report.Markdown(results, connections, command, shallow);
await File.WriteAllTextAsync(Path.Combine(output, "latency.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(output, "latency.json"), Report.Json(results, connections, warmup, command, shallow));
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"written: {Path.Combine(output, "latency.md")}, {Path.Combine(output, "latency.json")}");
return 0;
