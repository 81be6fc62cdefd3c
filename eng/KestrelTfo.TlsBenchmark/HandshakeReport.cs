using System.Globalization;
using System.Net;
using System.Text;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// Handshakes per second and server CPU per handshake, the layer against SslStream: full and resumed, with one client
/// (the server waits between steps, as a new visitor's connection does) and with <see cref="ClientsAtOnce"/> (the server
/// always busy: what a handshake costs in capacity), beside the same connections without TLS; runs alternating so that a
/// noisy machine weighs on both, medians.
/// </summary>
internal static class HandshakeReport
{
    public const int ClientsAtOnce = 8;

    private const string NoTls = "no TLS";

    private static readonly (string Mode, int Clients)[] s_shapes =
        [(HandshakeLoop.Full, 1), (HandshakeLoop.Full, ClientsAtOnce), (HandshakeLoop.Resumed, 1), (HandshakeLoop.Resumed, ClientsAtOnce)];

    private static readonly int[] s_clientCounts = [1, ClientsAtOnce];

    public static async Task<IReadOnlyList<HandshakeRun>> RunAsync(TlsServer server, (string Name, IPEndPoint EndPoint)[] stacks, int rounds, int seconds)
    {
        // Warm-up: JIT, tiering and the first tickets, on both.
        foreach (var (name, endPoint) in stacks)
        {
            foreach (var (mode, clients) in s_shapes)
            {
                await HandshakeRun.RunAsync(name, endPoint, server.CertificateHash, mode, 1, clients);
            }
        }

        var runs = new List<HandshakeRun>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (mode, clients) in s_shapes)
            {
                foreach (var (name, endPoint) in round % 2 == 0 ? stacks : stacks.Reverse())
                {
                    runs.Add(Say(await HandshakeRun.RunAsync(name, endPoint, server.CertificateHash, mode, seconds, clients)));
                }
            }

            foreach (var clients in s_clientCounts)
            {
                runs.Add(Say(await HandshakeRun.RunAsync(NoTls, server.Plain, server.CertificateHash, HandshakeLoop.Plain, seconds, clients)));
            }
        }

        return runs;
    }

    public static void Append(StringBuilder report, IReadOnlyList<HandshakeRun> runs, (string Name, IPEndPoint EndPoint)[] stacks, int rounds, int seconds)
    {
        report.AppendLine(CultureInfo.InvariantCulture, $"# TLS handshakes: the layer on OpenSSL against Kestrel's UseHttps ({rounds} rounds of {seconds} s, medians)");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"Each connection: a TLS 1.3 handshake and one `GET /` with `Connection: close`, by the product's own OpenSSL client in a process of its own (resumed: each connection offers the ticket the one before it got), one client or {ClientsAtOnce} at once, each one connection at a time, on the TCP Fast Open transport, over loopback. Server CPU is the server process's own time per connection; \"without TLS\" is the same connections and GETs to a plain endpoint of the same server, and \"TLS's own\" what TLS adds to that.");
        report.AppendLine();
        report.AppendLine("| handshake | clients | layer /s | SslStream /s | ratio | layer CPU µs | SslStream CPU µs | CPU ratio | without TLS µs | TLS's own CPU ratio | resumed, layer | resumed, SslStream |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (mode, clients) in s_shapes)
        {
            var layer = Runs(runs, stacks[0].Name, mode, clients);
            var sslStream = Runs(runs, stacks[1].Name, mode, clients);
            var plain = Median.Of(Runs(runs, NoTls, HandshakeLoop.Plain, clients).Select(r => r.ServerCpuMicrosecondsPerHandshake));
            var (layerRate, sslRate) = (Median.Of(layer.Select(r => r.PerSecond)), Median.Of(sslStream.Select(r => r.PerSecond)));
            var (layerCpu, sslCpu) = (Median.Of(layer.Select(r => r.ServerCpuMicrosecondsPerHandshake)), Median.Of(sslStream.Select(r => r.ServerCpuMicrosecondsPerHandshake)));
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {Name(mode)} | {clients} | {layerRate:F0} | {sslRate:F0} | {layerRate / sslRate:F2}x | {layerCpu:F0} | {sslCpu:F0} | {layerCpu / sslCpu:F2}x | {plain:F0} | {(layerCpu - plain) / (sslCpu - plain):F2}x | {Share(layer)} | {Share(sslStream)} |");
        }

        // What the runtime's share of a handshake is made of, per stack: its allocations and its thread-pool hops.
        report.AppendLine();
        report.AppendLine("The server's managed allocations and thread-pool work items per connection (medians of the same runs):");
        report.AppendLine();
        report.AppendLine("| handshake | clients | layer KB | SslStream KB | without TLS KB | layer work items | SslStream work items | without TLS work items |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (mode, clients) in s_shapes)
        {
            var kilobytes = Per(runs, stacks, mode, clients, r => r.ServerBytesPerHandshake / 1024);
            var workItems = Per(runs, stacks, mode, clients, r => r.ServerWorkItemsPerHandshake);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {Name(mode)} | {clients} | {kilobytes.Layer:F1} | {kilobytes.SslStream:F1} | {kilobytes.Plain:F1} | {workItems.Layer:F1} | {workItems.SslStream:F1} | {workItems.Plain:F1} |");
        }
    }

    private static string Name(string mode) => mode == HandshakeLoop.Resumed ? "resumed (ticket)" : "full";

    private static (double Layer, double SslStream, double Plain) Per(
        IReadOnlyList<HandshakeRun> runs, (string Name, IPEndPoint EndPoint)[] stacks, string mode, int clients, Func<HandshakeRun, double> measure) =>
        (Median.Of(Runs(runs, stacks[0].Name, mode, clients).Select(measure)),
         Median.Of(Runs(runs, stacks[1].Name, mode, clients).Select(measure)),
         Median.Of(Runs(runs, NoTls, HandshakeLoop.Plain, clients).Select(measure)));

    private static HandshakeRun Say(HandshakeRun run)
    {
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run.Stack,-22} {run.Mode,-8} x{run.Clients,-2} {run.PerSecond,8:F0}/s  {run.ServerCpuMicrosecondsPerHandshake,7:F0} µs server CPU  resumed {run.ResumedConnections} of {run.Connections}"));
        return run;
    }

    private static List<HandshakeRun> Runs(IReadOnlyList<HandshakeRun> runs, string stack, string mode, int clients) =>
        runs.Where(r => r.Stack == stack && r.Mode == mode && r.Clients == clients).ToList();

    private static string Share(List<HandshakeRun> runs) =>
        string.Create(CultureInfo.InvariantCulture, $"{100.0 * runs.Sum(r => r.ResumedConnections) / runs.Sum(r => r.Connections):F0}%");
}
