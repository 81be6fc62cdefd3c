using System.Diagnostics.Metrics;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>The kernel's counters as the <c>kestreltfo.kernel.events</c> instrument reports them, move by move.</summary>
[Collection(nameof(KernelCounterTests))]
public sealed class KernelEventsMetricTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task The_instrument_moves_exactly_as_a_cookie_request_a_TFO_connection_and_a_plain_one_move_the_kernel()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var before = Observe(app);

        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: false, Timeout);

        var after = Observe(app);
        var moved = TcpFastOpenCounters.All.ToDictionary(TcpFastOpenCounters.KernelName, c => after[c] - before[c]);
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["TCPFastOpenActive"] = 1,
                ["TCPFastOpenActiveFail"] = 0,
                ["TCPFastOpenPassive"] = 1,
                ["TCPFastOpenPassiveFail"] = 0,
                ["TCPFastOpenListenOverflow"] = 0,
                ["TCPFastOpenCookieReqd"] = 1,
                ["TCPFastOpenBlackhole"] = 0,
                ["TCPFastOpenPassiveAltKey"] = 0,
            },
            moved);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_instrument_counts_from_the_apps_start_not_from_the_namespaces()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using (var earlier = new KestrelAppFactory<Program>())
        {
            await RawHttp.ExchangeAsync(earlier.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
            await RawHttp.ExchangeAsync(earlier.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        }

        using var netstat = new LinuxNetstat();
        Assert.True(netstat.TryRead(out var kernel));
        Assert.True(kernel[TcpFastOpenCounter.Passive] > 0);
        await using var app = new KestrelAppFactory<Program>();
        _ = app.EndPoint;

        Assert.All(Observe(app), counter => Assert.Equal(0, counter.Value));
    }

    private static Dictionary<TcpFastOpenCounter, long> Observe(KestrelAppFactory<Program> app)
    {
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        metrics.Observe();
        return TcpFastOpenCounters.All.ToDictionary(
            c => c,
            c => metrics.Sum("kestreltfo.kernel.events", ("kestreltfo.kernel.counter", TcpFastOpenCounters.KernelName(c))));
    }
}
