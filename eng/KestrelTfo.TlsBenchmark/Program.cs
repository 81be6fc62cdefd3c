using System.Globalization;
using System.Net;
using System.Text;
using KestrelTfo.TlsBenchmark;

// Handshakes per second and server CPU per handshake, the TLS layer on OpenSSL against Kestrel's UseHttps on the same
// transport (HandshakeReport); then, with --soak N, N full handshakes against the layer with the process's resident
// memory and file descriptors before and after.
// Then keep-alive throughput over HTTPS (HTTP/1.1 by wrk, HTTP/2 by h2load; 16 connections): small responses and 1 MB ones.
//   KestrelTfo.TlsBenchmark [--seconds 5] [--rounds 3] [--soak 0] [--no-throughput] [--output artifacts/bench]
//   KestrelTfo.TlsBenchmark --serve   (only the server, until standard input ends: for a profiler and clients of one's own)
var seconds = Option("--seconds", 5);
var rounds = Option("--rounds", 3);
var soak = Option("--soak", 0);

// --client-cpu N: the client's CPU per new HTTPS connection, HttpClient over the client's own TLS with early data against
// SslStream, N connections per run (ClientCpuReport), each run this program again as the client, in a process of its own.
var clientCpu = Option("--client-cpu", 0);
if (args.FirstOrDefault() == ClientCpuLoop.Argument)
{
    await ClientCpuLoop.RunAsync(args[1..]);
    return;
}

if (args.FirstOrDefault() == HandshakeLoop.Argument)
{
    // The client is the product's OpenSSL client, which runs on Linux only.
    await (OperatingSystem.IsLinux() ? HandshakeLoop.RunAsync(args[1..]) : throw new PlatformNotSupportedException("The handshake client runs on Linux only."));
    return;
}

var output = args.SkipWhile(a => a != "--output").Skip(1).FirstOrDefault() ?? "artifacts/bench";

await using var server = await TlsServer.StartAsync();
var stacks = new[] { ("OpenSSL layer", server.Layer), ("SslStream (UseHttps)", server.SslStream) };
if (args.Contains("--serve"))
{
    // For a profiler: the endpoints, then serve until standard input ends, with no client of its own.
    Console.WriteLine($"layer {server.Layer} sslstream {server.SslStream} pid {Environment.ProcessId} certificate {server.CertificateHash}");
    await Console.In.ReadToEndAsync();
    return;
}

var report = new StringBuilder();
HandshakeReport.Append(report, await HandshakeReport.RunAsync(server, stacks, rounds, seconds), stacks, rounds, seconds);

if (!args.Contains("--no-throughput"))
{
    var paths = new[] { "/", "/1mb" };
    var protocols = new[] { HttpVersion.Version11, HttpVersion.Version20 };
    var throughput = new List<ThroughputRun>();
    for (var round = 0; round < rounds; round++)
    {
        foreach (var protocol in protocols)
        {
            foreach (var path in paths)
            {
                foreach (var (name, endPoint) in round % 2 == 0 ? stacks : stacks.Reverse())
                {
                    var run = await ThroughputRun.RunAsync(name, endPoint, protocol, path, seconds, connections: 16);
                    throughput.Add(run);
                    Console.Error.WriteLine($"{name,-22} HTTP/{protocol} {path,-5} {run.RequestsPerSecond,9:F0} req/s  {run.ServerCpuMicrosecondsPerRequest,7:F0} µs server CPU");
                }
            }
        }
    }

    foreach (var protocol in protocols)
    {
        report.AppendLine();
        report.AppendLine(protocol == HttpVersion.Version20
            ? $"Keep-alive throughput: `h2load -t1 -c16 -m{ThroughputRun.Http2Streams("/")}` (2 bytes) and `-m{ThroughputRun.Http2Streams("/1mb")}` (1 MB), HTTP/2 over TLS 1.3; server CPU per request."
            : "Keep-alive throughput: `wrk -t1 -c16`, HTTP/1.1 over TLS 1.3; server CPU per request.");
        report.AppendLine();
        report.AppendLine("| response | layer req/s | SslStream req/s | ratio | layer CPU µs | SslStream CPU µs | CPU ratio |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var path in paths)
        {
            var layer = throughput.Where(r => r.Protocol == protocol && r.Path == path && r.Stack == stacks[0].Item1).ToList();
            var sslStream = throughput.Where(r => r.Protocol == protocol && r.Path == path && r.Stack == stacks[1].Item1).ToList();
            var (layerRate, sslRate) = (Median.Of(layer.Select(r => r.RequestsPerSecond)), Median.Of(sslStream.Select(r => r.RequestsPerSecond)));
            var (layerCpu, sslCpu) = (Median.Of(layer.Select(r => r.ServerCpuMicrosecondsPerRequest)), Median.Of(sslStream.Select(r => r.ServerCpuMicrosecondsPerRequest)));
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {(path == "/" ? "2 bytes" : "1 MB")} | {layerRate:F0} | {sslRate:F0} | {layerRate / sslRate:F2}x | {layerCpu:F1} | {sslCpu:F1} | {layerCpu / sslCpu:F2}x |");
        }
    }
}

if (clientCpu > 0)
{
    ClientCpuReport.Append(report, await ClientCpuReport.RunAsync(server, rounds, clientCpu), clientCpu);
}

if (soak > 0)
{
    // Footprints at each quarter: growth that stops (caches filling, allocator arenas) is not a leak; growth that
    // goes on is.
    var footprints = new List<(long Handshakes, NativeFootprint Footprint)> { (0, NativeFootprint.Take()) };
    long done = 0;
    while (done < soak)
    {
        done += (await HandshakeRun.RunAsync(stacks[0].Item1, server.Layer, server.CertificateHash, HandshakeLoop.Full, 10)).Connections;
        if (done * 4 / soak > footprints.Count - 1 || done >= soak)
        {
            footprints.Add((done, NativeFootprint.Take()));
            Console.Error.WriteLine($"soak: {done} handshakes, {footprints[^1].Footprint}");
        }
    }

    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"Soak: {done} full handshakes on the layer.");
    report.AppendLine();
    report.AppendLine("| handshakes | resident KB | native heap in use KB | file descriptors | managed heap KB |");
    report.AppendLine("|---:|---:|---:|---:|---:|");
    foreach (var (handshakes, footprint) in footprints)
    {
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {handshakes} | {footprint.ResidentKilobytes} | {footprint.NativeHeapKilobytes} | {footprint.FileDescriptors} | {footprint.ManagedBytes / 1024} |");
    }
}

Directory.CreateDirectory(output);
await File.WriteAllTextAsync(Path.Combine(output, "tls.md"), report.ToString());
Console.WriteLine(report);

int Option(string name, int fallback)
{
    var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
    return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
}
