using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>The benchmark's output: a Markdown table for people and JSON for machines, from the same results.</summary>
internal static class Report
{
    /// <summary>Defer's target: its median first response at most this far above the default transport's (issue 16).</summary>
    public const double DeferTargetMilliseconds = 0.5;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <param name="nginxLogs">What nginx's access log said at each RTT (how many requests it read from early data).</param>
    public static string Markdown(IReadOnlyList<ScenarioResult> results, int connections, string command, bool shallowIdle, IReadOnlyList<string> nginxLogs)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Time from opening a new connection to the first response byte; median and p90 of {connections} connections per row, after warm-up (the first connection fetched the TFO cookie). `{command}`"));
        text.AppendLine();
        text.AppendLine(Invariant($"\"path RTT\" is the median time of a plain TCP handshake over the same link in the same run (SYN to SYN-ACK, answered by the kernel alone); the RTT columns count in it. CPU idle states: {(shallowIdle ? "shallowest only (/dev/cpu_dma_latency held at 0)" : "all allowed")}."));
        text.AppendLine();
        text.AppendLine("| RTT | path RTT ms | protocol | server transport | client | median ms | p90 ms | median RTT | p90 RTT | limit RTT | beyond limit ms | in server ms | in client ms | vs default transport |");
        text.AppendLine("|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var result in results.Where(r => !r.Scenario.Proxied))
        {
            var ratio = RatioToDefault(results, result) is { } value ? Invariant($"{value:F2}×") : "";
            text.AppendLine(Invariant(
                $"| {result.RoundTripMilliseconds} ms | {result.PathRoundTrip:F2} | {result.Scenario.ProtocolName} | {result.Scenario.Server} | {result.Scenario.Client.Name} | {result.Median:F1} | {result.P90:F1} | {result.MedianInRoundTrips:F2} | {result.P90InRoundTrips:F2} | {result.Scenario.LimitInRoundTrips} | {result.BeyondLimit:F2} | {Milliseconds(result.ServerMedian)} | {Milliseconds(result.ClientMedian)} | {ratio} |"));
        }

        text.AppendLine();
        text.AppendLine("\"beyond limit\": the median minus the limit's round trips of the path, the time that is not round trips (TLS and HTTP work on both ends, thread wake-ups), so it does not scale with the RTT and weighs most at the shortest.");
        text.AppendLine();
        text.AppendLine("\"in server\" and \"in client\": the medians of the time each end held a connection's critical path, from the segments the link carried: the server's from the arrival of each segment it answered to its answer leaving (kernel, Kestrel, TLS and the app together), the client's from opening the connection to its first segment and from each of the server's segments arriving to its next, and to the first byte reaching the caller. The rest of the connection's time is the link's. A segment's departure is stamped when the emulator's reader takes it, so the reader's wake-up (tens of microseconds) counts as the sender's. The two columns together exceed \"beyond limit\": the path RTTs it subtracts already hold such wake-ups and both kernels' work, which the split gives to the ends.");
        var unsplit = results.Sum(result => result.Unsplit);
        if (unsplit > 0)
        {
            text.AppendLine(Invariant($"{unsplit} connections could not be split (a segment missing from the link's trace, or a retransmission) and are left out of those two columns."));
        }

        text.AppendLine();
        text.AppendLine("\"vs default transport\": KestrelTfo with a TFO client, median over the median of Kestrel's default transport with the plain client of the same kind (socket, HttpClient or GrpcChannel), same RTT and protocol, same run. gRPC: a new GrpcChannel's first unary call, HTTP/2 over TLS 1.3, timed to its response.");
        text.AppendLine();
        text.AppendLine(Invariant($"Defer (the kernel filter trims a plaintext request from the SYN, so it follows the handshake): target, a median within {DeferTargetMilliseconds} ms of the default transport's with the plain client of the same kind."));
        text.AppendLine();
        foreach (var result in results.Where(r => r.Scenario.Transport == BenchmarkTransport.FastOpenDefer && r.Scenario.Protocol == BenchmarkProtocol.Http1))
        {
            if (Baseline(results, result) is { } other)
            {
                var difference = result.Median - other.Median;
                text.AppendLine(Invariant(
                    $"- RTT {result.RoundTripMilliseconds} ms, {result.Scenario.ProtocolName}, {result.Scenario.Client.Name}: Defer {result.Median:F2} ms, the default transport with {other.Scenario.Client.Name} {other.Median:F2} ms: {difference:+0.00;-0.00} ms ({(difference <= DeferTargetMilliseconds ? "met" : "NOT met")}); in the server {Milliseconds(result.ServerMedian)} ms ({Milliseconds(other.ServerMedian)} ms), in the client {Milliseconds(result.ClientMedian)} ms ({Milliseconds(other.ClientMedian)} ms)"));
            }
        }

        text.AppendLine();
        foreach (var result in results.Where(r => r.Scenario.ServerHasFastOpen && !r.Scenario.Proxied))
        {
            var off = result.MedianInRoundTrips / result.Scenario.LimitInRoundTrips - 1;
            var offConfigured = result.MedianInConfiguredRoundTrips / result.Scenario.LimitInRoundTrips - 1;
            var baseline = Baseline(results, result) is { } other
                ? Invariant($"; {result.BeyondLimit:F2} ms beyond its limit, the default transport {other.BeyondLimit:F2} ms beyond its limit of {other.Scenario.LimitInRoundTrips} RTT; in the server {Milliseconds(result.ServerMedian)} ms (the default transport {Milliseconds(other.ServerMedian)} ms), in the client {Milliseconds(result.ClientMedian)} ms ({Milliseconds(other.ClientMedian)} ms)")
                : "";
            text.AppendLine(Invariant(
                $"- RTT {result.RoundTripMilliseconds} ms (path {result.PathRoundTrip:F2} ms), {result.Scenario.ProtocolName}, {result.Scenario.Server}, {result.Scenario.Client.Name}: median {result.MedianInRoundTrips:F3} RTT, limit {result.Scenario.LimitInRoundTrips}: {off * 100:+0.0;-0.0}% ({(Math.Abs(off) <= 0.05 ? "within 5%" : "NOT within 5%")}); against the configured RTT {offConfigured * 100:+0.0;-0.0}%{baseline}"));
        }

        NginxMarkdown(text, results, nginxLogs);
        ProxyMarkdown(text, results);
        return text.ToString();
    }

    public static string Json(IReadOnlyList<ScenarioResult> results, int connections, int warmup, string command, bool shallowIdle) =>
        JsonSerializer.Serialize(
            new
            {
                command,
                connections,
                warmup,
                shallowCpuIdle = shallowIdle,
                machine = new { Environment.ProcessorCount, os = Environment.OSVersion.VersionString, runtime = Environment.Version.ToString() },
                results = results.Select(result => new
                {
                    rttMs = result.RoundTripMilliseconds,
                    pathRttMs = result.PathRoundTrip,
                    protocol = result.Scenario.Protocol switch
                    {
                        BenchmarkProtocol.Http1 => "http1.1",
                        BenchmarkProtocol.Https => "https-tls13",
                        BenchmarkProtocol.HttpsOpenSsl => "https-tls13-openssl",
                        BenchmarkProtocol.HttpsOpenSslEarlyData when result.Scenario.Transport == BenchmarkTransport.Nginx => "https-tls13-early-data",
                        BenchmarkProtocol.HttpsOpenSslEarlyData => "https-tls13-openssl-early-data",
                        _ => "grpc-h2-tls13",
                    },
                    proxied = result.Scenario.Proxied,
                    backendRttMs = result.BackendRoundTripMilliseconds,
                    backendPathRttMs = NullIfNaN(result.BackendPathRoundTrip),
                    backendLimitRtt = result.Scenario.Proxied ? result.Scenario.BackendLimitInRoundTrips : (int?)null,
                    backendLegMs = NullIfNaN(result.BackendLegMedian),
                    clientLegMs = NullIfNaN(result.ClientLegMedian),
                    backendLegSamplesMs = result.BackendLegs,
                    backendPathRttSamplesMs = result.BackendPathSamples,
                    server = result.Scenario.Server,
                    client = result.Scenario.Client.Name,
                    medianMs = result.Median,
                    p90Ms = result.P90,
                    medianPathRtt = result.MedianInRoundTrips,
                    p90PathRtt = result.P90InRoundTrips,
                    medianConfiguredRtt = result.MedianInConfiguredRoundTrips,
                    limitRtt = result.Scenario.LimitInRoundTrips,
                    beyondLimitMs = result.BeyondLimit,
                    serverMs = NullIfNaN(result.ServerMedian),
                    clientMs = NullIfNaN(result.ClientMedian),
                    ratioToDefaultTransport = RatioToDefault(results, result),
                    samplesMs = result.Samples,
                    pathRttSamplesMs = result.PathSamples,
                    // Per connection, in the order of samplesMs; null where the trace lacked a segment. The turns are
                    // the client's and the server's times one by one, from the opening (see TimeSplit).
                    splitsMs = result.Splits.Select(split => split is null ? null : new { client = split.Client, server = split.Server, link = split.Link, turns = split.Turns }),
                }),
            },
            s_json);

    /// <summary>
    /// nginx beside KestrelTfo: the same early-data client, the same GET, each server over a link of its own in the
    /// same run, row against row.
    /// </summary>
    private static void NginxMarkdown(StringBuilder text, IReadOnlyList<ScenarioResult> results, IReadOnlyList<string> nginxLogs)
    {
        var nginx = results.Where(r => r.Scenario.Transport == BenchmarkTransport.Nginx).ToArray();
        if (nginx.Length == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine("nginx beside KestrelTfo: the project's TLS client on OpenSSL resumes with a ticket and sends `GET /` as TLS 1.3 early data (with TFO, in the SYN), to nginx (`listen ... ssl http2 fastopen=256`, `ssl_early_data on`, its answer from `return 200`) and to KestrelTfo's TLS layer with early data (the app's answer), each server over a link of its own, same run. Medians; RTT in the link's measured path.");
        text.AppendLine();
        text.AppendLine("| RTT | client | nginx ms | nginx RTT | KestrelTfo ms | KestrelTfo RTT | KestrelTfo − nginx ms | in server ms, nginx / KestrelTfo | in client ms, nginx / KestrelTfo |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|---|---|");
        foreach (var reference in nginx)
        {
            var kestrel = results.FirstOrDefault(other =>
                other.RoundTripMilliseconds == reference.RoundTripMilliseconds && other.Scenario.Transport == BenchmarkTransport.FastOpen &&
                other.Scenario.Protocol == reference.Scenario.Protocol && other.Scenario.Client.FastOpen == reference.Scenario.Client.FastOpen &&
                other.Scenario.Client.AnsweredFromEarlyData == reference.Scenario.Client.AnsweredFromEarlyData);
            if (kestrel is null)
            {
                continue;
            }

            text.AppendLine(Invariant(
                $"| {reference.RoundTripMilliseconds} ms | {reference.Scenario.Client.Name} | {reference.Median:F1} | {reference.MedianInRoundTrips:F2} | {kestrel.Median:F1} | {kestrel.MedianInRoundTrips:F2} | {kestrel.Median - reference.Median:+0.00;-0.00} | {Milliseconds(reference.ServerMedian)} / {Milliseconds(kestrel.ServerMedian)} | {Milliseconds(reference.ClientMedian)} / {Milliseconds(kestrel.ClientMedian)} |"));
        }

        text.AppendLine();
        foreach (var log in nginxLogs)
        {
            text.AppendLine(Invariant($"- {log}"));
        }
    }

    /// <summary>
    /// The proxied rows: a new client connection through YARP over a new backend connection, with each connection's
    /// time split at the backend leg the link behind the proxy saw.
    /// </summary>
    private static void ProxyMarkdown(StringBuilder text, IReadOnlyList<ScenarioResult> results)
    {
        var proxied = results.Where(r => r.Scenario.Proxied).ToArray();
        if (proxied.Length == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine("Through a proxy: the client, YARP and the backend in three namespaces, r1 the client-proxy link's RTT and r2 the proxy-backend link's, each connection new on both legs (the forwarder keeps no connection). The backend leg runs from the proxy's SYN leaving to the backend's response reaching it (the last of the backend's data before the proxy answered), from the second link's trace; the client leg is the rest (the client's link and the proxy's own work). Legs count in their measured path RTTs; the limit is the physical one on both legs together.");
        text.AppendLine();
        text.AppendLine("| r1 | r2 | path r1 ms | path r2 ms | client leg | proxy and backend | client | median ms | p90 ms | client leg r1 | backend leg r2 | limit r1 + r2 | median / limit | vs default transport |");
        text.AppendLine("|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var result in proxied)
        {
            var ratio = RatioToDefault(results, result) is { } value ? Invariant($"{value:F2}×") : "";
            text.AppendLine(Invariant(
                $"| {result.RoundTripMilliseconds} ms | {result.BackendRoundTripMilliseconds} ms | {result.PathRoundTrip:F2} | {result.BackendPathRoundTrip:F2} | {result.Scenario.ProtocolName} | {result.Scenario.Server} | {result.Scenario.Client.Name} | {result.Median:F1} | {result.P90:F1} | {result.ClientLegMedian / result.PathRoundTrip:F2} | {result.BackendLegMedian / result.BackendPathRoundTrip:F2} | {result.Scenario.LimitInRoundTrips} + {result.Scenario.BackendLimitInRoundTrips} | {result.Median / result.LimitMilliseconds:F3} | {ratio} |"));
        }

        var unmeasured = proxied.Sum(r => r.UnmeasuredBackendLegs);
        if (unmeasured > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"{unmeasured} connections' backend legs could not be told (no single new backend connection in the trace, or a retransmission) and are left out of the leg columns."));
        }
    }

    private static double? NullIfNaN(double value) => double.IsNaN(value) ? null : value;

    /// <summary>Two decimals, or a dash for a median no connection gave.</summary>
    private static string Milliseconds(double value) => double.IsNaN(value) ? "–" : value.ToString("F2", CultureInfo.InvariantCulture);

    private static double? RatioToDefault(IReadOnlyList<ScenarioResult> results, ScenarioResult result) =>
        Baseline(results, result) is { } baseline ? result.Median / baseline.Median : null;

    /// <summary>
    /// For KestrelTfo with a TFO client: Kestrel's default transport with the plain client of the same kind, at the
    /// same RTT and protocol; for a row on the OpenSSL layer where the default transport has none of its own there, its
    /// HTTPS row (the same HTTP/1.1 over TLS 1.3, on SslStream). Null for every other row.
    /// </summary>
    private static ScenarioResult? Baseline(IReadOnlyList<ScenarioResult> results, ScenarioResult result) =>
        !result.Scenario.ServerHasFastOpen || !result.Scenario.Client.FastOpen
            ? null
            : Baseline(results, result, result.Scenario.Protocol)
              ?? (result.Scenario.Protocol is BenchmarkProtocol.HttpsOpenSsl or BenchmarkProtocol.HttpsOpenSslEarlyData ? Baseline(results, result, BenchmarkProtocol.Https) : null);

    private static ScenarioResult? Baseline(IReadOnlyList<ScenarioResult> results, ScenarioResult result, BenchmarkProtocol protocol) =>
        results.FirstOrDefault(other =>
            other.RoundTripMilliseconds == result.RoundTripMilliseconds &&
            other.Scenario.Protocol == protocol && other.Scenario.Proxied == result.Scenario.Proxied &&
            !other.Scenario.ServerHasFastOpen && !other.Scenario.Client.FastOpen && other.Scenario.Client.Family == result.Scenario.Client.Family);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
