using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>Runs Debian's wrk against a server and reads its requests per second and error counts.</summary>
internal static partial class WrkRunner
{
    /// <param name="cpus">A taskset CPU list to pin wrk to, or null to let it run anywhere.</param>
    public static async Task<(double RequestsPerSecond, long Requests, long Errors, string Output)> RunAsync(
        IPEndPoint server, int connections, TimeSpan duration, bool close, string? cpus)
    {
        var arguments = new List<string> { "-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s" };
        if (close)
        {
            arguments.AddRange(["-H", "Connection: close"]);
        }

        arguments.Add($"http://{server}/");
        var output = await ProcessRunner.RunAsync("wrk", arguments, cpus, duration + TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        var rps = double.Parse(RequestsPerSecondPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var requests = long.Parse(RequestsPattern().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        long errors = 0;
        if (SocketErrorsPattern().Match(output) is { Success: true } socketErrors)
        {
            for (var group = 1; group <= 4; group++)
            {
                errors += long.Parse(socketErrors.Groups[group].Value, CultureInfo.InvariantCulture);
            }
        }

        if (Non2xxPattern().Match(output) is { Success: true } non2xx)
        {
            errors += long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return (rps, requests, errors, output);
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecondPattern();

    [GeneratedRegex(@"([0-9]+) requests in")]
    private static partial Regex RequestsPattern();

    [GeneratedRegex(@"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")]
    private static partial Regex SocketErrorsPattern();

    [GeneratedRegex(@"Non-2xx or 3xx responses: ([0-9]+)")]
    private static partial Regex Non2xxPattern();
}
