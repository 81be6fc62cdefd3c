using KestrelTfo.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests;

/// <summary>The TFO HttpClient handler on a path that drops SYNs carrying data.</summary>
public sealed class FastOpenClientFallbackTests
{
    private const int FallbackRaceStarted = 104;
    private const int FallbackRaceWon = 105;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fallback_race_keeps_the_plain_connection_when_the_SYN_with_data_is_dropped()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var server = SynDataDroppingServer.Start();
        using var log = new ClientLog();

        // The cookie request carries no data, so it gets through; the SYN with data after it does not, and the plain
        // connection started 100 ms later wins long before the kernel's own retry (1 s).
        var connector = new FastOpenConnector(new FastOpenConnectOptions { FallbackDelay = TimeSpan.FromMilliseconds(100) }, log.Factory);
        var bodies = await GetAsync(server, connector, count: 3);

        Assert.Equal(["ok", "ok", "ok"], bodies);
        Assert.Equal(["CookieRequested"], log.Connections);
        Assert.Equal(2, log.WithId(FallbackRaceStarted).Count);
        Assert.Equal([LogLevel.Information, LogLevel.Debug], log.WithId(FallbackRaceWon).Select(e => e.Level));
    }

    [Fact]
    public async Task Without_the_race_the_kernel_retries_the_SYN_without_data_and_the_request_still_works()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var server = SynDataDroppingServer.Start();
        using var log = new ClientLog();

        var bodies = await GetAsync(server, new FastOpenConnector(new FastOpenConnectOptions(), log.Factory), count: 2);

        Assert.Equal(["ok", "ok"], bodies);
        Assert.Equal(["CookieRequested", "SynRetransmitted"], log.Connections);
        Assert.Empty(log.WithId(FallbackRaceStarted));
    }

    /// <summary>
    /// GETs, each on a new connection (a handler of its own) through one connector: the first fetches the cookie, the
    /// others send their request in the SYN.
    /// </summary>
    private static async Task<List<string>> GetAsync(SynDataDroppingServer server, FastOpenConnector connector, int count)
    {
        var bodies = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var client = new HttpClient(FastOpenHttp.Handler(log: null).UseFastOpen(connector));
            bodies.Add(await client.GetStringAsync(new Uri($"http://{server.EndPoint}/"), Timeout));
        }

        return bodies;
    }
}
