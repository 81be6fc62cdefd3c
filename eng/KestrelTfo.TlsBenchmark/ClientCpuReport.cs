using System.Globalization;
using System.Text;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// The client's CPU per new HTTPS connection: HttpClient over the client's own TLS (FastOpenHttpsHandler, TLS 1.3 early
/// data) against SslStream, to the TLS layer with early data, both resuming and with TCP Fast Open, runs alternating so
/// that a noisy machine weighs on both; the ratio of each pair, and their median.
/// </summary>
internal static class ClientCpuReport
{
    /// <summary>Connections before each run's measured ones: JIT, tiering, the first ticket and the TFO cookie.</summary>
    private const int Warmup = 200;

    public static async Task<IReadOnlyList<(ClientCpuRun Own, ClientCpuRun SslStream)>> RunAsync(TlsServer server, int rounds, int connections)
    {
        var pairs = new List<(ClientCpuRun, ClientCpuRun)>();
        for (var round = 0; round < rounds; round++)
        {
            var runs = new Dictionary<bool, ClientCpuRun>();
            foreach (var ownTls in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var run = await ClientCpuRun.RunAsync(ownTls, server.LayerEarlyData.Port, server.CertificateHash, Warmup, connections);
                runs[ownTls] = run;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"client {run.Client,-44} {run.CpuMicrosecondsPerConnection,7:F0} µs CPU, {run.BytesPerConnection,7:F0} B per connection; resumed {run.Resumed}, early data {run.EarlyData}"));
            }

            pairs.Add((runs[true], runs[false]));
        }

        return pairs;
    }

    public static void Append(StringBuilder report, IReadOnlyList<(ClientCpuRun Own, ClientCpuRun SslStream)> pairs, int connections)
    {
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"Client CPU per new connection: one HttpClient, {connections} connections per run one at a time (after {Warmup} of warm-up), each a TLS 1.3 handshake and one `GET` with `Connection: close`, to the TLS layer with early data over loopback, TCP Fast Open on; the client in a process of its own, its CPU time (user and system) and allocations per connection. {pairs.Count} runs of each, alternating; medians.");
        report.AppendLine();
        report.AppendLine("| client TLS | CPU µs / connection | allocated B / connection | resumed | GET as early data |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var runs in new[] { pairs.Select(p => p.Own).ToList(), pairs.Select(p => p.SslStream).ToList() })
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {runs[0].Client} | {Median.Of(runs.Select(r => r.CpuMicrosecondsPerConnection)):F0} | {Median.Of(runs.Select(r => r.BytesPerConnection)):F0} | {runs.Sum(r => r.Resumed)} of {runs.Count * connections} | {runs.Sum(r => r.EarlyData)} |");
        }

        var ratios = pairs.Select(p => p.Own.CpuMicrosecondsPerConnection / p.SslStream.CpuMicrosecondsPerConnection).Order().ToList();
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"CPU ratio, own TLS / SslStream, per pair: median {Median.Of(ratios):F2}x (lowest {ratios[0]:F2}x, highest {ratios[^1]:F2}x).");
    }
}
