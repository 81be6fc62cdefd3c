using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;
using KestrelTfo.Testing;

// Time to first response byte on new connections over an emulated WAN link: Kestrel's default transport with a
// plain and a TFO client, and KestrelTfo (under Flag, and under Defer with its kernel filter) with a TFO client, over
// HTTP/1.1, HTTPS (TLS 1.3) and gRPC; TLS 1.3 early data on KestrelTfo's TLS layer and on nginx; and the same through
// a YARP proxy with a second link behind it. Run it through
// eng/bench-latency.sh, which builds it in Release and runs it as root in a private network namespace.
const string Usage = "usage: eng/bench-latency.sh [--rtt 10,50,100] [--backend-rtt MS] [--connections 40] [--warmup 10] [--output artifacts/latency]";
var names = args.Chunk(2).Select(pair => pair[0]).ToArray();
if (args.Length % 2 != 0 || names.Any(name => name is not ("--rtt" or "--backend-rtt" or "--connections" or "--warmup" or "--output" or "--command")) || names.Distinct().Count() != names.Length)
{
    var given = args.Chunk(2).Where(pair => pair[0] != "--command").SelectMany(pair => pair);
    Console.Error.WriteLine($"bench-latency: unknown, repeated or incomplete argument in '{string.Join(' ', given)}'");
    Console.Error.WriteLine(Usage);
    return 2;
}

var settings = args.Chunk(2).ToDictionary(pair => pair[0][2..], pair => pair[1]);
static double Milliseconds(string value) =>
    double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rtt) && rtt is > 0 and <= 10_000 ? rtt : double.NaN;
var rtts = (settings.GetValueOrDefault("rtt") ?? "10,50,100").Split(',').Select(Milliseconds).ToArray();
// The proxy's link to its backend: the client's RTT unless given.
double? backendRtt = settings.GetValueOrDefault("backend-rtt") is { } backend ? Milliseconds(backend) : null;
var connections = int.TryParse(settings.GetValueOrDefault("connections") ?? "40", CultureInfo.InvariantCulture, out var count) ? count : 0;
// The first connection of each scenario only fetches the TFO cookie, so at least one must be a warm-up.
var warmup = int.TryParse(settings.GetValueOrDefault("warmup") ?? "10", CultureInfo.InvariantCulture, out var warm) ? warm : 0;
if (rtts.Any(double.IsNaN) || rtts.Distinct().Count() != rtts.Length || backendRtt is double.NaN || connections is < 1 or > 10_000 || warmup is < 1 or > 10_000)
{
    Console.Error.WriteLine("bench-latency: --rtt takes different milliseconds above 0 and up to 10000, comma-separated, --backend-rtt one such; --connections and --warmup take 1 to 10000");
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

// nginx is the reference server of the early-data rows (eng/bench-latency.sh installs Debian's package).
if (NginxServer.UnavailableReason is { } nginxUnavailable)
{
    Console.Error.WriteLine($"bench-latency: {nginxUnavailable}");
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
var grpc = new GrpcFirstByteClient(fastOpen: false, certificate);
var grpcFastOpen = new GrpcFirstByteClient(fastOpen: true, certificate);

// The project's own TLS client on OpenSSL, which sends its request as TLS 1.3 early data once it holds a ticket.
using var earlyData = new OpenSslFirstByteClient(fastOpen: false, post: false, "/", certificate);
using var earlyDataFastOpen = new OpenSslFirstByteClient(fastOpen: true, post: false, "/", certificate);
using var earlyDataPost = new OpenSslFirstByteClient(fastOpen: true, post: true, "/", certificate);

// The same client against nginx, with tickets of its own (its store keeps them by server name and port, which could
// meet KestrelTfo's), leaving the connection for nginx to close: nginx sends no ticket on a connection it closes while
// the handshake is unfinished, as it does right after answering an early GET that says Connection: close.
using var nginxEarlyDataFastOpen = new OpenSslFirstByteClient(fastOpen: true, post: false, "/", certificate, keepAlive: true);
using var nginxEarlyData = new OpenSslFirstByteClient(fastOpen: false, post: false, "/", certificate, keepAlive: true);

const int TraceCapacity = 4096;
var results = new List<ScenarioResult>();
var nginxLogs = new List<string>();
foreach (var rtt in rtts)
{
    var behindRtt = backendRtt ?? rtt;
    // One link per server, so each has an address of its own: the kernel caches TFO cookies per destination address.
    // Traced, so each connection's time splits into the client's, the server's and the link's (see TimeSplit). The
    // trace is drained after every connection; a connection and the probes before it take a few dozen segments.
    // A proxy sits in this process's namespace between two links: its clients behind one, its backend behind the
    // other (CallerSide.Client), so the backend's connections cross a link of their own.
    EmulatedLink Link(double roundTrip, LinkSide callerSide = LinkSide.Server) =>
        EmulatedLink.Start(new EmulatedLinkOptions { TraceCapacity = TraceCapacity, CallerSide = callerSide }.WithRoundTripTime(TimeSpan.FromMilliseconds(roundTrip)));
    using var defaultLink = Link(rtt);
    using var fastOpenLink = Link(rtt);
    using var deferLink = Link(rtt);
    using var defaultProxyLink = Link(rtt);
    using var defaultBackendLink = Link(behindRtt, LinkSide.Client);
    using var fastOpenProxyLink = Link(rtt);
    using var fastOpenBackendLink = Link(behindRtt, LinkSide.Client);
    using var nginxLink = Link(rtt);
    await using var defaultServer = await BenchmarkServer.StartAsync(defaultLink.ServerAddress, BenchmarkTransport.Default, certificate);
    await using var fastOpenServer = await BenchmarkServer.StartAsync(fastOpenLink.ServerAddress, BenchmarkTransport.FastOpen, certificate);
    await using var deferServer = await BenchmarkServer.StartAsync(deferLink.ServerAddress, BenchmarkTransport.FastOpenDefer, certificate);
    await using var defaultBackend = await BenchmarkServer.StartAsync(defaultBackendLink.ServerAddress, BenchmarkTransport.Default, certificate, behind: defaultBackendLink);
    await using var fastOpenBackend = await BenchmarkServer.StartAsync(fastOpenBackendLink.ServerAddress, BenchmarkTransport.FastOpen, certificate, behind: fastOpenBackendLink);
    await using var defaultProxy = await ProxyServer.StartAsync(defaultProxyLink.ServerAddress, fastOpen: false, certificate, defaultBackend.Http);
    await using var fastOpenProxy = await ProxyServer.StartAsync(fastOpenProxyLink.ServerAddress, fastOpen: true, certificate, fastOpenBackend.Http);
    // A child process in this namespace, killed when the round ends, however it ends. It closes an idle connection once
    // the client's Finished has come back (a round trip after the response) and the next ticket has gone out.
    var nginxKeepAlive = TimeSpan.FromMilliseconds(2 * rtt + 100);
    await using var nginx = await NginxServer.StartAsync(nginxLink.ServerAddress, certificate, earlyData: true, keepAliveTimeout: nginxKeepAlive);
    using var defaultPath = new PathRoundTripProbe(defaultLink);
    using var fastOpenPath = new PathRoundTripProbe(fastOpenLink);
    using var deferPath = new PathRoundTripProbe(deferLink);
    using var defaultProxyPath = new PathRoundTripProbe(defaultProxyLink);
    using var defaultBackendPath = new PathRoundTripProbe(defaultBackendLink);
    using var fastOpenProxyPath = new PathRoundTripProbe(fastOpenProxyLink);
    using var fastOpenBackendPath = new PathRoundTripProbe(fastOpenBackendLink);
    using var nginxPath = new PathRoundTripProbe(nginxLink);
    PathRoundTripProbe[] paths = [defaultPath, fastOpenPath, deferPath, defaultProxyPath, defaultBackendPath, fastOpenProxyPath, fastOpenBackendPath, nginxPath];

    var cases = new List<Case>();
    foreach (var protocol in new[] { BenchmarkProtocol.Http1, BenchmarkProtocol.Https })
    {
        cases.Add(new Case(new Scenario(BenchmarkTransport.Default, plain, protocol), defaultLink, defaultPath, defaultServer.For(protocol)));
        cases.Add(new Case(new Scenario(BenchmarkTransport.Default, fastOpen, protocol), defaultLink, defaultPath, defaultServer.For(protocol)));
        cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, fastOpen, protocol), fastOpenLink, fastOpenPath, fastOpenServer.For(protocol)));
        cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpenDefer, fastOpen, protocol), deferLink, deferPath, deferServer.For(protocol)));
        cases.Add(new Case(new Scenario(BenchmarkTransport.Default, httpClient, protocol), defaultLink, defaultPath, defaultServer.For(protocol)));
        cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, httpClientFastOpen, protocol), fastOpenLink, fastOpenPath, fastOpenServer.For(protocol)));
        if (protocol == BenchmarkProtocol.Http1)
        {
            // HttpClient sends its GET in the SYN; under Defer the kernel filter trims it, and it follows the handshake.
            cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpenDefer, httpClientFastOpen, protocol), deferLink, deferPath, deferServer.For(protocol)));
        }
    }

    // The TLS layer on OpenSSL in place of SslStream: without early data, the same round trips as the HTTPS rows above.
    cases.Add(new Case(new Scenario(BenchmarkTransport.Default, plain, BenchmarkProtocol.HttpsOpenSsl), defaultLink, defaultPath, defaultServer.HttpsOpenSsl));
    cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, fastOpen, BenchmarkProtocol.HttpsOpenSsl), fastOpenLink, fastOpenPath, fastOpenServer.HttpsOpenSsl));
    cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, httpClientFastOpen, BenchmarkProtocol.HttpsOpenSsl), fastOpenLink, fastOpenPath, fastOpenServer.HttpsOpenSsl));

    // With early data: a GET is answered from it, a round trip before the handshake would allow (in 1 RTT with TFO, 2
    // without); a POST waits for the client's Finished (2 RTT with TFO).
    foreach (var client in new[] { earlyDataFastOpen, earlyData, earlyDataPost })
    {
        cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, client, BenchmarkProtocol.HttpsOpenSslEarlyData), fastOpenLink, fastOpenPath, fastOpenServer.HttpsOpenSslEarlyData));
    }

    // nginx with fastopen and ssl_early_data, the same GET from the same client: the reference for those two rows.
    foreach (var client in new[] { nginxEarlyDataFastOpen, nginxEarlyData })
    {
        cases.Add(new Case(new Scenario(BenchmarkTransport.Nginx, client, BenchmarkProtocol.HttpsOpenSslEarlyData), nginxLink, nginxPath, nginx.EndPoint));
    }

    cases.Add(new Case(new Scenario(BenchmarkTransport.Default, grpc, BenchmarkProtocol.Grpc), defaultLink, defaultPath, defaultServer.Grpc));
    cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, grpcFastOpen, BenchmarkProtocol.Grpc), fastOpenLink, fastOpenPath, fastOpenServer.Grpc));
    foreach (var protocol in new[] { BenchmarkProtocol.Http1, BenchmarkProtocol.Https })
    {
        var https = protocol == BenchmarkProtocol.Https;
        cases.Add(new Case(
            new Scenario(BenchmarkTransport.Default, plain, protocol, Proxied: true), defaultProxyLink, defaultProxyPath, https ? defaultProxy.Https : defaultProxy.Http, defaultBackendLink, defaultBackendPath));
        cases.Add(new Case(
            new Scenario(BenchmarkTransport.FastOpen, fastOpen, protocol, Proxied: true), fastOpenProxyLink, fastOpenProxyPath, https ? fastOpenProxy.Https : fastOpenProxy.Http, fastOpenBackendLink, fastOpenBackendPath));
    }

    // HttpClient with TLS 1.3 early data (FastOpenHttpsHandler) against the TLS layer with early data: a GET in 1 RTT, a
    // POST in 2. Then a second proxy (the first one's link, the same backend) forwarding as the FastOpenProxy sample does,
    // over https with early data: with early data on the client's leg too, which the proxy marks as a possible replay,
    // so the backend leg waits for its handshake; and with TLS 1.3 on SslStream there, so the forwarded GET rides early.
    using var httpClientEarlyData = new EarlyDataHttpClientFirstByteClient(post: false, certificate);
    using var httpClientEarlyDataPost = new EarlyDataHttpClientFirstByteClient(post: true, certificate);
    await using var earlyDataProxy = await ProxyServer.StartAsync(fastOpenProxyLink.ServerAddress, fastOpen: true, certificate, fastOpenBackend.HttpsOpenSslEarlyData, earlyData: true);
    foreach (var client in new IFirstByteClient[] { httpClientEarlyData, httpClientEarlyDataPost })
    {
        cases.Add(new Case(new Scenario(BenchmarkTransport.FastOpen, client, BenchmarkProtocol.HttpsOpenSslEarlyData), fastOpenLink, fastOpenPath, fastOpenServer.HttpsOpenSslEarlyData));
    }

    cases.Add(new Case(
        new Scenario(BenchmarkTransport.FastOpen, httpClientEarlyData, BenchmarkProtocol.HttpsOpenSslEarlyData, Proxied: true, BackendEarlyData: true),
        fastOpenProxyLink, fastOpenProxyPath, earlyDataProxy.HttpsEarlyData!, fastOpenBackendLink, fastOpenBackendPath));
    cases.Add(new Case(
        new Scenario(BenchmarkTransport.FastOpen, fastOpen, BenchmarkProtocol.Https, Proxied: true, BackendEarlyData: true),
        fastOpenProxyLink, fastOpenProxyPath, earlyDataProxy.Https, fastOpenBackendLink, fastOpenBackendPath));

    // A bound for a stalled run: twice the round trips one round needs without TFO (a probe takes two: its handshake
    // and its close) and the waits for nginx to close its connections, plus a margin.
    var roundTrips = cases.Sum(measured => measured.Scenario.MostRoundTrips) + 2 * paths.Length;
    var nginxCases = cases.Count(measured => measured.Scenario.Transport == BenchmarkTransport.Nginx);
    using var timeout = new CancellationTokenSource(
        TimeSpan.FromMilliseconds((warmup + connections) * 2 * roundTrips * (Math.Max(rtt, behindRtt) + 1)) + (warmup + connections) * 2 * nginxCases * nginxKeepAlive + TimeSpan.FromMinutes(2));

    Console.WriteLine($"RTT {rtt} ms (proxy to backend {behindRtt} ms): {warmup} warm-up and {connections} measured connections per scenario");
    // Interleaved, one connection at a time: every scenario sees the same moments of a busy machine.
    for (var round = 0; round < warmup + connections; round++)
    {
        foreach (var path in paths)
        {
            path.Measure();
        }

        foreach (var measured in cases)
        {
            // Its first socket is made before the clock starts, so the emulator's namespace hop is not timed.
            using var sockets = new ClientSocketSource(measured.Link);
            var missed = measured.Link.Trace!.Missed;
            var backendMissed = measured.BackendLink?.Trace!.Missed;
            // The probes' segments and an earlier connection's close are not this connection's backend leg.
            measured.BackendLink?.Trace!.Drain();
            var timing = await measured.Scenario.Client.TimeToFirstByteAsync(sockets.Take, measured.Server, measured.Scenario.Https, timeout.Token);
            var trace = measured.Link.Trace.Drain();
            var backendTrace = measured.BackendLink?.Trace!.Drain();
            if (round >= warmup)
            {
                measured.Samples.Add(timing.Milliseconds);
                // A full trace may have lost any of the connection's segments.
                measured.Splits.Add(measured.Link.Trace.Missed == missed ? TimeSplit.Of(timing, trace) : null);
                if (measured.BackendLink is { } backendLink)
                {
                    measured.BackendLegs.Add(backendLink.Trace!.Missed == backendMissed ? BackendLeg.Of(timing, backendTrace!, trace) : null);
                }
            }
        }
    }

    // The path's RTT over the whole run, warm-up included: it is the link's, not the scenarios'.
    results.AddRange(cases.Select(measured => measured.Result(rtt, behindRtt)));

    // What nginx itself says it did: a GET read while the handshake was unfinished came in early data.
    var nginxRequests = await nginx.ReadAccessLogAsync(nginxCases * (warmup + connections), timeout.Token);
    nginxLogs.Add(string.Create(
        CultureInfo.InvariantCulture,
        $"RTT {rtt} ms: nginx logged {nginxRequests.Count} requests, {nginxRequests.Count(r => r.EarlyData)} of them read from TLS 1.3 early data and {nginxRequests.Count(r => r.SessionReused)} on a resumed session (warm-up included: each client's first connection has no ticket yet)"));
    Console.WriteLine(nginxLogs[^1]);
}

var shallow = shallowIdle is not null;
var markdown = Report.Markdown(results, connections, command, shallow, nginxLogs);
await File.WriteAllTextAsync(Path.Combine(output, "latency.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(output, "latency.json"), Report.Json(results, connections, warmup, command, shallow));
Console.WriteLine();
Console.WriteLine(markdown);
await File.WriteAllTextAsync(Path.Combine(output, "latency.svg"), LatencyChart.Svg(results));
Console.WriteLine($"written: {Path.Combine(output, "latency.md")}, {Path.Combine(output, "latency.json")}, {Path.Combine(output, "latency.svg")}");
return 0;
