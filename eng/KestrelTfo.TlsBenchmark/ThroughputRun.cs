using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One run of Debian's <c>wrk</c> (HTTP/1.1 keep-alive over TLS, one thread) against one endpoint and path, and the
/// server's CPU time over it (this process's, which does nothing else meanwhile).
/// </summary>
internal sealed partial record ThroughputRun(string Stack, string Path, long Requests, double RequestsPerSecond, TimeSpan ServerCpu)
{
    public double ServerCpuMicrosecondsPerRequest => ServerCpu.TotalMicroseconds / Requests;

    public static async Task<ThroughputRun> RunAsync(string stack, IPEndPoint server, string path, int seconds, int connections)
    {
        var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-t1", $"-c{connections}", $"-d{seconds}s", $"https://{server}{path}" })
        {
            start.ArgumentList.Add(argument);
        }

        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        self.Refresh();
        var cpu = self.TotalProcessorTime - cpuBefore;

        // "  12345 requests in 5.00s, 1.23MB read" ... "Requests/sec:   2468.10"
        var text = await output + await error;
        var requests = RequestsLine().Match(text);
        var rate = RateLine().Match(text);
        if (process.ExitCode != 0 || !requests.Success || !rate.Success)
        {
            throw new InvalidOperationException($"wrk against {stack} exited {process.ExitCode}: {text}");
        }

        return new ThroughputRun(
            stack, path, long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), cpu);
    }

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RateLine();
}
