using System.Net;
using System.Text.Json;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests;

/// <summary>The README's dotnet-counters command, against the running sample as a process of its own.</summary>
public sealed class SampleCountersTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task Dotnet_counters_collect_reads_the_transports_instruments_from_the_running_sample()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var root = ChildProcess.RepositoryRoot;
        var address = Loopback.NextAddress();
        using var sample = ChildProcess.Start(ChildProcess.DotNet, [Path.Combine(AppContext.BaseDirectory, "HelloFastOpen.dll"), "--urls", $"http://{address}:0"]);
        var listening = await sample.WaitForLineAsync(line => line.Contains("Now listening on: http://", StringComparison.Ordinal), TimeSpan.FromSeconds(30), Timeout)
            ?? throw new InvalidOperationException($"the sample did not start: {sample.Output}");
        var server = IPEndPoint.Parse(new Uri(listening[listening.IndexOf("http://", StringComparison.Ordinal)..].Trim()).Authority);
        // A cookie first, so the requests made while the tool watches ride in SYNs.
        await RawHttp.GetAsync(server, "/", fastOpen: true, Timeout);
        var file = Path.Combine(Path.GetTempPath(), $"kestreltfo-counters-{Guid.NewGuid():N}.json");
        try
        {
            // The tool comes from the repository's manifest (.config/dotnet-tools.json), restored by eng/test.sh.
            using var counters = ChildProcess.Start(
                ChildProcess.DotNet,
                ["tool", "run", "dotnet-counters", "--", "collect", "-p", sample.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--counters", "KestrelTfo",
                    "--format", "json", "-o", file, "--duration", "00:00:00:05"],
                root);

            // Counters are rates: only connections made while the session is open show, so traffic waits for it.
            var session = await counters.WaitForLineAsync(line => line.Contains("Starting a counter session", StringComparison.Ordinal), TimeSpan.FromSeconds(60), Timeout);
            if (session is null)
            {
                // The tool ended, or never said it watches: say why, rather than send traffic nobody counts.
                if (counters.Output.Contains("dotnet tool restore", StringComparison.Ordinal))
                {
                    FastOpenEnvironment.SkipOrFail($"dotnet-counters is not restored: run `dotnet tool restore` (eng/test.sh does). {counters.Output}");
                }

                Assert.Fail($"dotnet-counters never started its session: {counters.Output}");
            }

            for (var i = 0; i < 3; i++)
            {
                await RawHttp.GetAsync(server, "/", fastOpen: true, Timeout);
            }

            var exitCode = await counters.WaitForExitAsync(TimeSpan.FromSeconds(60), Timeout);
            Assert.True(exitCode == 0, counters.Output);
            var events = JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("Events").EnumerateArray().ToList();
            static string Name(JsonElement e) => e.GetProperty("name").GetString()!;
            static string Tags(JsonElement e) => e.GetProperty("tags").GetString()!;
            Assert.Contains(events, e => Name(e).StartsWith("kestreltfo.listener.fast_open (", StringComparison.Ordinal) && e.GetProperty("value").GetDouble() == 1);
            Assert.Contains(events, e => Name(e).StartsWith("kestreltfo.kernel.events (", StringComparison.Ordinal) && Tags(e) == "kestreltfo.kernel.counter=TCPFastOpenPassive");
            var fastOpenConnections = events
                .Where(e => Name(e).StartsWith("kestreltfo.connections (", StringComparison.Ordinal) && Tags(e).Contains("kestreltfo.fast_open=True", StringComparison.Ordinal))
                .Sum(e => e.GetProperty("value").GetDouble());
            Assert.True(fastOpenConnections >= 1, $"no TCP Fast Open connection counted while dotnet-counters watched: {counters.Output}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
