using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.FunctionalTests;

/// <summary>The TFO HttpClient handler when the kernel's TFO bits are off, on the server side or on the client side.</summary>
[Collection(nameof(SysctlTests))]
public sealed class FastOpenClientSysctlTests
{

    [Fact(Timeout = Limits.Test)]
    public async Task Requests_work_when_the_server_bit_is_turned_off_after_the_cookie()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        await FastOpenHttp.ReportAsync(server, log);
        Assert.True((await FastOpenHttp.ReportAsync(server, log)).Report.IsFastOpen);

        FastOpenReport report;
        using (FastOpenEnvironment.SetSysctl(1))
        {
            report = (await FastOpenHttp.ReportAsync(server, log)).Report;
        }

        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), report);
        Assert.Equal(["CookieRequested", "DataAccepted", "DataNotAccepted"], log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_the_client_bit_connections_open_normally_and_one_warning_says_how_to_fix_it()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        var handler = FastOpenHttp.Handler(log);
        handler.PooledConnectionLifetime = TimeSpan.Zero;
        using var client = new HttpClient(handler);

        var reports = new List<FastOpenReport>();
        using (FastOpenEnvironment.SetSysctl(2))
        {
            for (var i = 0; i < 3; i++)
            {
                reports.Add((await client.GetFromJsonAsync<FastOpenReport>(new Uri(server, "/tfo"), TestContext.Current.CancellationToken))!);
            }
        }

        Assert.All(reports, report => Assert.False(report.IsFastOpen));
        Assert.Equal(["Normal", "Normal", "Normal"], log.Connections);
        var warning = Assert.Single(log.WithEvent(nameof(FastOpenClientLog.FastOpenUnavailable)));
        Assert.Contains("sysctl -w net.ipv4.tcp_fastopen=3", warning.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Where_TFO_turns_out_unavailable_a_raced_connection_still_delivers_the_request_once()
    {
        // Every SYN-ACK comes 100 ms after its SYN. Without the client bit the kernel refuses TCP_FASTOPEN_CONNECT, so
        // the first attempt connects the ordinary way; while it waits for its SYN-ACK the race's clock reaches the
        // fallback delay, and a plain connection races it. Both are established about as soon: only the winner may write.
        using var link = LinkEnvironment.Start(new NetEmu.EmulatedLinkOptions().WithRoundTripTime(TimeSpan.FromMilliseconds(100)));

        // The setting is the client side's own: the link's client end is a network namespace of its own.
        Assert.Equal(2, link.RunInClientNamespace(() =>
        {
            File.WriteAllText(LinuxFastOpenSysctl.Path, "2");
            return LinuxFastOpenSysctl.TryRead(out var value, out _) ? value : -1;
        }));
        await using var app = new KestrelAppFactory<Program>(listen: o => o.Listen(link.ServerAddress, 0));
        using var kestrel = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), FastOpenMetrics.MeterName, "Microsoft.AspNetCore.Server.Kestrel");
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var client = new MetricsCollector(meters.GetRequiredService<IMeterFactory>(), FastOpenClientMetrics.MeterName);
        var time = new FakeTimeProvider();
        var fallbackDelay = TimeSpan.FromMinutes(5);
        using var attempts = new SemaphoreSlim(0);
        using var log = new ClientLog();
        var connector = RacingConnector.Create(link, attempts, fallbackDelay, time, meters.GetRequiredService<IMeterFactory>(), log.Factory);

        string visited;
        using (var httpClient = new HttpClient(new SocketsHttpHandler().UseFastOpen(connector)))
        {
            var visit = httpClient.GetStringAsync(new Uri($"http://{app.EndPoint}/visit"), TestContext.Current.CancellationToken);
            await attempts.WaitAsync(TestContext.Current.CancellationToken);
            time.Advance(fallbackDelay);
            visited = await visit;
        }

        Assert.Equal("visited", visited);
        Assert.True(
            await kestrel.WaitUntilAsync(m => m.Sum("kestrel.connection.duration") == m.Sum("kestreltfo.connections"), TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken),
            "a connection the server accepted is still open");
        Assert.Equal(1, attempts.CurrentCount);
        Assert.Equal(1, app.Services.GetRequiredService<RequestLedger>().Visits);
        var outcome = Assert.Single(client.TagValues("kestreltfo.client.connections", "kestreltfo.client.outcome"));
        Assert.True(outcome is "fallback" or "race_won_by_plain", $"outcome {outcome}");
        Assert.Single(log.WithEvent(nameof(FastOpenClientLog.FastOpenUnavailable)));
    }
}
