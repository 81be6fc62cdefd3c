using System.Net;
using System.Net.Sockets;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests;

/// <summary>The TFO HttpClient handler on a path that drops SYNs carrying data.</summary>
public sealed class FastOpenClientFallbackTests
{

    // Far longer than a test may take: only the test's clock can end it.
    private static readonly TimeSpan s_fallbackDelay = TimeSpan.FromMinutes(5);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Fallback_race_keeps_the_plain_connection_when_the_SYN_with_data_gets_no_answer()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var server = SynDataDroppingServer.Start();
        using var log = new ClientLog();
        await GetAsync(server, new FastOpenConnector(new FastOpenConnectOptions(), log.Factory), count: 1);

        // Each racing connection's first socket is the TFO attempt: the server drops all its SYNs, retransmissions
        // included, so only the plain connection can be established, however late it starts.
        var sockets = 0;
        using var attempts = new SemaphoreSlim(0);
        Socket CreateSocket(IPEndPoint endPoint)
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (Interlocked.Increment(ref sockets) % 2 == 1)
            {
                socket.Bind(new IPEndPoint(IPAddress.Any, 0));
                server.DropSynsFrom(((IPEndPoint)socket.LocalEndPoint!).Port);
                attempts.Release();
            }

            return socket;
        }

        // The app's clock, which an IHttpClientFactory client's connector takes from the container.
        var time = new TimerCountingTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time).AddSingleton(log.Factory);
        services.AddHttpClient("race").UseFastOpen(options =>
        {
            options.FallbackDelay = s_fallbackDelay;
            options.CreateSocket = CreateSocket;
        });
        await using var provider = services.BuildServiceProvider();
        var bodies = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("race");
            var get = client.GetStringAsync(new Uri($"http://{server.EndPoint}/"), Timeout);

            // Once the TCP Fast Open attempt has its socket, the race's delay runs: the race starts on its last tick.
            await attempts.WaitAsync(Timeout);
            time.AdvanceThroughDueTime(s_fallbackDelay);
            bodies.Add(await get);
        }

        Assert.Equal(["ok", "ok"], bodies);
        Assert.Equal(4, sockets);
        Assert.Equal(["CookieRequested"], log.Connections);
        Assert.Equal(2, log.WithEvent(nameof(FastOpenClientLog.FallbackRaceStarted)).Count);
        Assert.Equal([LogLevel.Information, LogLevel.Debug], log.WithEvent(nameof(FastOpenClientLog.FallbackRaceWon)).Select(e => e.Level));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_losing_attempt_is_over_and_its_socket_closed_when_the_race_returns()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var server = SynDataDroppingServer.Start();
        var sockets = new List<Socket>();
        using var attempts = new SemaphoreSlim(0);
        Socket CreateSocket(IPEndPoint endPoint)
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            lock (sockets)
            {
                sockets.Add(socket);
                if (sockets.Count == 1)
                {
                    // The TFO attempt, which the server never answers: the plain one wins.
                    socket.Bind(new IPEndPoint(IPAddress.Any, 0));
                    server.DropSynsFrom(((IPEndPoint)socket.LocalEndPoint!).Port);
                    attempts.Release();
                }
            }

            return socket;
        }

        using var log = new ClientLog();
        var time = new TimerCountingTimeProvider();
        var options = new FastOpenConnectOptions { FallbackDelay = s_fallbackDelay, CreateSocket = CreateSocket };
        var dialer = new FastOpenDialer(options, log.Factory.CreateLogger(FastOpenClientLog.Category), FastOpenClientSocket.PlatformMethod, time: time);

        var connect = dialer.ConnectAsync([server.EndPoint.Address], server.EndPoint.Port, RawHttp.Request("/"), Timeout);
        await attempts.WaitAsync(Timeout);
        time.AdvanceThroughDueTime(s_fallbackDelay);
        using var socket = await connect;

        // The loser sent from the caller's pooled buffer; once the caller has its socket nothing may use that buffer.
        lock (sockets)
        {
            Assert.Equal(2, sockets.Count);
            Assert.Same(sockets[1], socket);
            Assert.True(sockets[0].SafeHandle.IsClosed, "the losing attempt was still running when the race returned");
        }

        Assert.Single(log.WithEvent(nameof(FastOpenClientLog.FallbackRaceWon)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_the_race_the_kernel_retries_the_SYN_without_data_and_the_request_still_works()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var server = SynDataDroppingServer.Start();
        using var log = new ClientLog();

        var bodies = await GetAsync(server, new FastOpenConnector(new FastOpenConnectOptions(), log.Factory), count: 2);

        Assert.Equal(["ok", "ok"], bodies);
        Assert.Equal(["CookieRequested", "SynRetransmitted"], log.Connections);
        Assert.Empty(log.WithEvent(nameof(FastOpenClientLog.FallbackRaceStarted)));
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
