using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One keep-alive throughput run over TLS against one endpoint and path, and the server's CPU time over it: HTTP/1.1 by
/// Debian's <c>wrk</c> (one thread, one request in flight per connection), HTTP/2 by nghttp2's <c>h2load</c> (one
/// thread, <see cref="Http2Streams"/> streams in flight per connection).
/// </summary>
internal sealed partial record ThroughputRun(string Stack, Version Protocol, string Path, long Requests, double RequestsPerSecond, TimeSpan ServerCpu)
{
    /// <summary>
    /// Streams h2load keeps in flight on each HTTP/2 connection: 10 for small responses; one for 1 MB ones, which Kestrel's
    /// HTTP/2 sent at 20 to 85 MB/s on a shared 2-CPU machine with either stack, so that 16 x 10 of them left few or none
    /// finished in a run of a few seconds.
    /// </summary>
    public static int Http2Streams(string path) => path == "/" ? 10 : 1;

    public double ServerCpuMicrosecondsPerRequest => ServerCpu.TotalMicroseconds / Requests;

    public static Task<ThroughputRun> RunAsync(string stack, IPEndPoint server, Version protocol, string path, int seconds, int connections) =>
        protocol == HttpVersion.Version20
            ? RunH2LoadAsync(stack, server, path, seconds, connections)
            : RunWrkAsync(stack, server, path, seconds, connections);

    private static async Task<ThroughputRun> RunWrkAsync(string stack, IPEndPoint server, string path, int seconds, int connections)
    {
        var run = await ClientProcess.RunAsync("wrk", ["-t1", $"-c{connections}", $"-d{seconds}s", $"https://{server}{path}"]);

        // "  12345 requests in 5.00s, 1.23MB read" ... "Requests/sec:   2468.10"
        var requests = WrkRequestsLine().Match(run.Output);
        var rate = WrkRateLine().Match(run.Output);
        if (run.ExitCode != 0 || !requests.Success || !rate.Success)
        {
            throw new InvalidOperationException($"wrk against {stack} exited {run.ExitCode}: {run.Output}");
        }

        return new ThroughputRun(
            stack, HttpVersion.Version11, path, long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), run.ServerCpu);
    }

    private static async Task<ThroughputRun> RunH2LoadAsync(string stack, IPEndPoint server, string path, int seconds, int connections)
    {
        var run = await ClientProcess.RunAsync(
            "h2load", ["-t1", $"-c{connections}", $"-m{Http2Streams(path)}", $"-D{seconds}", $"https://{server}{path}"]);

        // "TLS Protocol: TLSv1.3" ... "Application protocol: h2" ... "finished in 5.00s, 2468.10 req/s, 1.23MB/s"
        // "requests: 12345 total, 12355 started, 12345 done, 12345 succeeded, 0 failed, 0 errored, 0 timeout"
        var rate = H2LoadRateLine().Match(run.Output);
        var requests = H2LoadRequestsLine().Match(run.Output);
        if (run.ExitCode != 0 || !rate.Success || !requests.Success || requests.Groups[2].Value != "0"
            || !run.Output.Contains("TLS Protocol: TLSv1.3", StringComparison.Ordinal) || !run.Output.Contains("Application protocol: h2", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"h2load against {stack} exited {run.ExitCode} or did not run TLS 1.3 h2 without failures: {run.Output}");
        }

        return new ThroughputRun(
            stack, HttpVersion.Version20, path, long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), run.ServerCpu);
    }

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex WrkRequestsLine();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex WrkRateLine();

    [GeneratedRegex(@"finished in [\d.]+s, ([\d.]+) req/s")]
    private static partial Regex H2LoadRateLine();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed")]
    private static partial Regex H2LoadRequestsLine();
}
