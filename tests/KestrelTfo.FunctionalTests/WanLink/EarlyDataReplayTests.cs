using System.Diagnostics.Metrics;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// The early-data guard against what it exists for: a SYN with data that the network delivers a second time
/// (RFC 7413, section 6), replayed byte for byte by the emulated link after the first connection is over.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class EarlyDataReplayTests
{
    // The real client resets a replayed connection one round trip after its SYN arrives; under Flag the replay runs
    // only if the app reads it before that, so the round trip is long enough for a busy machine to win the race.
    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(100);

    // Long after the first exchange (a few round trips) is over, and the client's reset has cleared the server.
    private static readonly TimeSpan s_replayAfter = TimeSpan.FromMilliseconds(800);

    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(15);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Flag_runs_a_replayed_request_twice_and_both_runs_see_the_flag()
    {
        await using var scene = await ReplayScene.StartAsync("Flag");

        await scene.SendTransferTwiceAsync();

        // The cookie connection's request came after its handshake; the TFO one and its replay both came in a SYN.
        Assert.True(await scene.Ledger.WaitForTransfersAsync(3, s_patience, Timeout), $"ran {scene.Ledger.Transfers.Count} times");
        Assert.Equal(EarlyDataAction.None, scene.Ledger.Transfers[0].EarlyDataAction);
        Assert.All(scene.Ledger.Transfers.Skip(1), run =>
        {
            // Accepted while still in SYN_RECV (the link has a real round trip), yet the early data is all there.
            Assert.True(run.IsFastOpen);
            Assert.Equal(RawHttp.Post("/transfer").Length, run.EarlyDataLength);
            Assert.Equal(EarlyDataKind.HttpRequest, run.EarlyDataKind);
            Assert.Equal(EarlyDataAction.Flagged, run.EarlyDataAction);
        });
        Assert.Equal(1, scene.Link.ToServer.Replayed);

        // The request in the SYN is answered before the client's ACK arrives, and the replay never gets one: both
        // may be replays. The cookie connection had completed its handshake, so its request is known genuine.
        Assert.Equal([false, true, true], scene.Ledger.PossibleReplays);
    }

    [Fact]
    public async Task A_later_request_on_a_flagged_connection_is_no_possible_replay()
    {
        await using var scene = await ReplayScene.StartAsync("Flag");
        await RawHttp.ExchangeAsync(scene.Server, RawHttp.Request("/tfo"), fastOpen: true, Timeout, scene.ClientSocket);

        // A kept-alive connection whose first request rode in the SYN, then a POST once that was answered: the
        // connection stays flagged, but by the POST its handshake has completed, so the POST may go ahead.
        using var socket = scene.ClientSocket();
        RawHttp.UseFastOpenConnect(socket);
        await socket.ConnectAsync(scene.Server, Timeout);
        await socket.SendAsync("GET /tfo HTTP/1.1\r\nHost: test\r\n\r\n"u8.ToArray(), SocketFlags.None, Timeout);
        await ReadUntilAsync(socket, "\r\n0\r\n\r\n");
        await socket.SendAsync(RawHttp.Post("/transfer"), SocketFlags.None, Timeout);
        await ReadUntilAsync(socket, "}");

        var run = Assert.Single(scene.Ledger.Transfers);
        Assert.Equal(EarlyDataAction.Flagged, run.EarlyDataAction);
        Assert.Equal([false], scene.Ledger.PossibleReplays);
    }

    [Fact]
    public async Task Defer_runs_it_once_and_counts_the_replay_as_never_established()
    {
        await using var scene = await ReplayScene.StartAsync("Defer");

        await scene.SendTransferTwiceAsync();

        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_reset")) == 1, s_patience, Timeout),
            "the replay was not counted as never established");
        Assert.Equal(2, scene.Ledger.Transfers.Count);
        Assert.Equal(EarlyDataAction.Deferred, scene.Ledger.Transfers[1].EarlyDataAction);
        Assert.Equal(2, scene.Metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferred")));
        Assert.Equal(1, scene.Link.ToServer.Replayed);
    }

    [Fact]
    public async Task Reject_never_runs_a_request_that_came_in_a_SYN()
    {
        await using var scene = await ReplayScene.StartAsync("Reject");

        await scene.SendTransferTwiceAsync(expectReset: true);

        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "rejected")) == 2, s_patience, Timeout),
            "the original and its replay were not both rejected");
        Assert.Single(scene.Ledger.Transfers);
        Assert.Equal(EarlyDataAction.None, scene.Ledger.Transfers[0].EarlyDataAction);
    }

    [Fact]
    public async Task A_replayed_ClientHello_is_closed_as_a_duplicate_when_debounce_is_on()
    {
        await using var scene = await ReplayScene.StartAsync("Flag", debounce: true);
        var hello = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "ClientHellos", "curl-tls13.bin"));

        await RawHttp.ExchangeAsync(scene.Server, hello, fastOpen: true, Timeout, scene.ClientSocket, reset: true);
        await RawHttp.ExchangeAsync(scene.Server, hello, fastOpen: true, Timeout, scene.ClientSocket, reset: true);

        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "debounced")) == 1, s_patience, Timeout),
            "the replayed ClientHello was not debounced");
        Assert.Equal(2, scene.Metrics.Sum("kestreltfo.early_data.connections", ("kestreltfo.early_data.kind", "tls_client_hello")));
    }

    [Fact]
    public async Task Stalled_deferred_connections_time_out_without_holding_up_anyone_else()
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        // Every SYN-ACK to the client takes 2 s, so a deferred connection cannot complete its handshake within
        // its 1 s; meanwhile clients on loopback must be served as if nothing were waiting.
        var options = new EmulatedLinkOptions();
        options.ToServer.Delay = TimeSpan.FromMilliseconds(5);
        options.ToClient.Delay = TimeSpan.FromSeconds(2);
        using var link = LinkEnvironment.Start(options);
        var loopback = Loopback.NextAddress();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer", ["Kestrel:FastOpen:EarlyDataDeferTimeout"] = "00:00:01" },
            listen: o =>
            {
                o.Listen(link.ServerAddress, 0);
                o.Listen(loopback, 0);
            });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        var server = app.EndPoint;
        Assert.Equal(link.ServerAddress, server.Address);

        await RawHttp.ExchangeAsync(server, RawHttp.Post("/transfer"), fastOpen: true, Timeout, () => link.CreateClientSocket());
        Assert.Single(ledger.Transfers);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{loopback}:{LoopbackPort(app, loopback)}") };
        await client.GetStringAsync("/tfo", Timeout);

        const int Stalled = 20;
        var stalled = Enumerable.Range(0, Stalled)
            .Select(_ => Task.Run(() => ExchangeOrResetAsync(() => RawHttp.ExchangeAsync(server, RawHttp.Post("/transfer"), fastOpen: true, Timeout, () => link.CreateClientSocket())), Timeout))
            .ToArray();
        Assert.True(await metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferred")) == Stalled, s_patience, Timeout));

        for (var i = 0; i < 20; i++)
        {
            Assert.Contains("hasFeature", await client.GetStringAsync("/tfo", Timeout), StringComparison.Ordinal);
        }

        // All of those were served while every stalled connection still waited for its handshake.
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_timed_out")));

        Assert.True(await metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_timed_out")) == Stalled, s_patience, Timeout));
        await Task.WhenAll(stalled).WaitAsync(s_patience, Timeout);
        Assert.Single(ledger.Transfers);
    }

    /// <summary>Reads until the text received so far ends with <paramref name="end"/>, or the server closes.</summary>
    private static async Task ReadUntilAsync(Socket socket, string end)
    {
        var received = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, Timeout);
            Assert.True(read > 0, $"the server closed after: {received}");
            received.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    private static int LoopbackPort(KestrelAppFactory<Program> app, System.Net.IPAddress loopback) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).Single(u => u.Host == loopback.ToString()).Port;

    private static async Task<string> ExchangeOrResetAsync(Func<Task<string>> exchange)
    {
        try
        {
            return await exchange();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return string.Empty;
        }
    }

    /// <summary>A server behind a link that replays every SYN with data, and the client on the other side.</summary>
    private sealed class ReplayScene : IAsyncDisposable
    {
        private readonly KestrelAppFactory<Program> _app;

        private ReplayScene(EmulatedLink link, KestrelAppFactory<Program> app)
        {
            Link = link;
            _app = app;
            Metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
            Ledger = app.Services.GetRequiredService<RequestLedger>();
            Server = app.EndPoint;
        }

        public EmulatedLink Link { get; }

        public MetricsCollector Metrics { get; }

        public RequestLedger Ledger { get; }

        public System.Net.IPEndPoint Server { get; }

        public static Task<ReplayScene> StartAsync(string policy, bool debounce = false)
        {
            FastOpenEnvironment.RequireClientAndServerBits();
            var options = new EmulatedLinkOptions().WithRoundTripTime(s_roundTrip);
            options.ToServer.ReplaySynWithDataAfter = s_replayAfter;
            var link = LinkEnvironment.Start(options);
            var settings = new Dictionary<string, string?> { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy };
            if (debounce)
            {
                settings["Kestrel:FastOpen:ClientHelloDebounceWindow"] = "00:00:30";
            }

            var app = new KestrelAppFactory<Program>(settings, listen: o => o.Listen(link.ServerAddress, 0));
            return Task.FromResult(new ReplayScene(link, app));
        }

        public Socket ClientSocket() => Link.CreateClientSocket();

        /// <summary>A cookie connection, then a TFO one whose POST rides in the SYN; each ends with a reset.</summary>
        public async Task SendTransferTwiceAsync(bool expectReset = false)
        {
            await RawHttp.ExchangeAsync(Server, RawHttp.Post("/transfer"), fastOpen: true, Timeout, ClientSocket, reset: true);
            try
            {
                await RawHttp.ExchangeAsync(Server, RawHttp.Post("/transfer"), fastOpen: true, Timeout, ClientSocket, reset: true);
            }
            catch (SocketException e) when (expectReset && e.SocketErrorCode == SocketError.ConnectionReset)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            Metrics.Dispose();
            await _app.DisposeAsync();
            Link.Dispose();
        }
    }
}
