using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using KestrelTfo.NetEmu;
using KestrelTfo.Platform;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// The early-data guard against what it exists for: a SYN with data that the network delivers a second time
/// (RFC 7413, section 6), replayed byte for byte by the emulated link after the first connection is over, and handshakes
/// that do not complete. Deferrals in the transport run on the app's <see cref="TimeProvider"/>, which these tests fake
/// where a timeout is at stake, so that nothing depends on how fast the machine is.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class EarlyDataReplayTests
{
    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(100);

    // The real client resets a replayed connection once the server's SYN-ACK reaches it; under Flag the replay runs only
    // if the app reads it before the reset arrives. Holding the link's server-to-client direction this long gives the
    // app all that time (it needs milliseconds), so the race has one outcome.
    private static readonly TimeSpan s_slowSynAck = TimeSpan.FromSeconds(1);

    // With the server's answers that slow, the first exchange (two one-way trips of them) is over and its reset has
    // cleared the server well before this; the replay then finds the server with no trace of the connection.
    private static readonly TimeSpan s_replayAfterSlowSynAck = TimeSpan.FromSeconds(3);

    // Long after the first exchange (a few round trips) is over, and the client's reset has cleared the server.
    private static readonly TimeSpan s_replayAfter = TimeSpan.FromMilliseconds(800);

    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(15);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task Flag_holds_a_POST_from_the_SYN_until_its_handshake_and_the_replayed_SYN_never_runs()
    {
        await using var scene = await Scene.StartAsync("Flag", replay: true, toClientDelay: s_slowSynAck, replayAfter: s_replayAfterSlowSynAck);

        await scene.SendTwiceAsync(RawHttp.Post("/transfer"));

        // The replay's connection ends when the real client resets it: its POST, held for a handshake that never came,
        // is dropped. Only after that is "never ran" a fact.
        Assert.True(
            await Bounded.UntilAsync(() => scene.Logs.Any(e => e.EventId.Name == nameof(FastOpenLog.EarlyDataRequestDropped)), s_patience, Timeout),
            "the replayed POST was never dropped");
        Assert.Equal(1, scene.Link.ToServer.Replayed);

        // The cookie connection's POST came after its handshake; the TFO one came in the SYN, flagged, and waited for its
        // handshake, so neither may be a replay when it runs, and the replay never ran.
        Assert.Equal(2, scene.Ledger.Transfers.Count);
        Assert.Equal(EarlyDataAction.None, scene.Ledger.Transfers[0].EarlyDataAction);
        Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", EarlyDataAction.Flagged), scene.Ledger.Transfers[1]);
        Assert.Equal([false, false], scene.Ledger.PossibleReplays);
        // Both were held: the original until its handshake completed, the replay until its connection was reset.
        Assert.Equal(2, scene.Logs.Count(e => e.EventId.Name == nameof(FastOpenLog.EarlyDataRequestHeld)));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Flag_with_unsafe_requests_run_at_once_runs_a_replayed_request_twice_and_both_runs_see_the_flag()
    {
        await using var scene = await Scene.StartAsync("Flag", replay: true, toClientDelay: s_slowSynAck, replayAfter: s_replayAfterSlowSynAck, unsafeRequests: "RunAtOnce");

        await scene.SendTwiceAsync(RawHttp.Post("/transfer"));

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

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_later_request_on_a_flagged_connection_is_no_possible_replay()
    {
        await using var scene = await Scene.StartAsync("Flag");
        await RawHttp.SendAsync(scene.Server, RawHttp.Request("/tfo"), Timeout, createSocket: scene.ClientSocket);

        // A kept-alive connection whose first request rode in the SYN, then a POST once that was answered: the
        // connection stays flagged, but by the POST its handshake has completed, so the POST may go ahead.
        using var socket = await RawFastOpen.ConnectAndSendAsync(scene.Server, "GET /tfo HTTP/1.1\r\nHost: test\r\n\r\n"u8.ToArray(), Timeout, scene.ClientSocket);
        await ReadUntilAsync(socket, "\r\n0\r\n\r\n");
        await socket.SendAsync(RawHttp.Post("/transfer"), SocketFlags.None, Timeout);
        await ReadUntilAsync(socket, "}");

        var run = Assert.Single(scene.Ledger.Transfers);
        Assert.Equal(EarlyDataAction.Flagged, run.EarlyDataAction);
        Assert.Equal([false], scene.Ledger.PossibleReplays);
    }

    [Theory(Timeout = Limits.LongTest)]
    [InlineData("Defer")]
    [InlineData("Reject")]
    public async Task Defer_runs_the_original_once_after_its_handshake_and_the_replayed_SYN_never(string policy)
    {
        await using var scene = await Scene.StartAsync(policy, replay: true);

        await scene.SendTwiceAsync(RawHttp.Post("/transfer"));

        // The kernel refused both the original's and the replay's SYN data; the real client sent the original's again
        // after its handshake, and answered the replay's SYN-ACK with a reset, so the replay never had data to give.
        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "kernel_deferred")) == 2, s_patience, Timeout),
            "the original and its replay were not both deferred by the kernel: " + string.Join("; ", scene.Metrics.Measurements.Select(m => m.Instrument + " " + string.Join(",", m.Tags.Select(t => t.Key + "=" + t.Value)))));
        Assert.Equal(1, scene.Link.ToServer.Replayed);

        // "Never" is judged once the replayed connection is over: no socket but the listener is left on the server's
        // address, so Kestrel has closed every connection it accepted and no request of theirs can still start.
        Assert.True(
            await Bounded.UntilAsync(() => TcpTable.CountLocal(scene.Server) == 1, s_patience, Timeout),
            $"{TcpTable.CountLocal(scene.Server) - 1} connection(s) still open on the server");
        Assert.Equal(2, scene.Ledger.Transfers.Count);
        Assert.Equal(new FastOpenReport(true, true, 0, EarlyDataKind.None, null, EarlyDataAction.Deferred), scene.Ledger.Transfers[1]);
        Assert.Equal([false, false], scene.Ledger.PossibleReplays);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_replayed_ClientHello_is_closed_as_a_duplicate_when_debounce_is_on()
    {
        await using var scene = await Scene.StartAsync("Flag", replay: true, debounce: true);
        var hello = ClientHelloCorpus.Read("curl-tls13.bin");

        await scene.SendTwiceAsync(hello);

        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "debounced")) == 1, s_patience, Timeout),
            "the replayed ClientHello was not debounced");
        Assert.Equal(2, scene.Metrics.Sum("kestreltfo.early_data.connections", ("kestreltfo.early_data.kind", "tls_client_hello")));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_replayed_SYN_deferred_in_the_transport_is_refused_and_only_the_guard_logs()
    {
        // Bytes that pass the kernel's filter but not the guard's classifier are held in the transport.
        await using var scene = await Scene.StartAsync("Defer", replay: true);

        await scene.SendTwiceAsync(SynPayloads.NearClientHello);

        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_reset")) == 1, s_patience, Timeout),
            "the replay was not refused");
        Assert.Equal(2, scene.Metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferred")));
        Assert.True(await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.pending") == 0, s_patience, Timeout));
        scene.AssertOnlyTheGuardLogged();
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Over_a_real_round_trip_Defer_holds_a_POST_in_the_transport_until_the_handshake_completes_then_runs_it_once()
    {
        // Without the kernel's filter the POST is taken in the SYN, and only the transport can hold it.
        await using var scene = await Scene.StartAsync("Defer", toClientDelay: s_slowSynAck, kernelFilter: false);
        await RawHttp.SendAsync(scene.Server, RawHttp.Request("/tfo"), Timeout, createSocket: scene.ClientSocket, reset: true);

        var exchange = RawHttp.SendAsync(scene.Server, RawHttp.Post("/transfer"), Timeout, createSocket: scene.ClientSocket);

        // Accepted in SYN_RECV and held: the SYN-ACK is still on its way to the client, so the handshake cannot have
        // completed, and the app has not been handed the POST.
        Assert.True(await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.pending") == 1, s_patience, Timeout), "the connection was not held");
        Assert.Empty(scene.Ledger.Transfers);

        // Once the client's ACK completes the handshake, the POST runs, once, known to be no replay.
        var response = await exchange.WaitAsync(s_patience, Timeout);
        Assert.True(response.SynDataAcknowledged);
        var run = Assert.Single(scene.Ledger.Transfers);
        Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", EarlyDataAction.Deferred), run);
        Assert.Equal([false], scene.Ledger.PossibleReplays);
        Assert.Equal(0, scene.Metrics.Sum("kestreltfo.early_data.pending"));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_deferral_in_the_transport_times_out_on_the_apps_clock_and_only_the_guard_logs()
    {
        var time = new FakeTimeProvider();

        // The SYN-ACK takes 3 s to reach the client, so the handshake cannot complete while the test looks.
        await using var scene = await Scene.StartAsync("Defer", time: time, toClientDelay: TimeSpan.FromSeconds(3));
        await RawHttp.SendAsync(scene.Server, RawHttp.Request("/tfo"), Timeout, createSocket: scene.ClientSocket, reset: true);

        var exchange = RawHttp.SendAsync(scene.Server, SynPayloads.NearClientHello, Timeout, createSocket: scene.ClientSocket, tolerateReset: true);
        Assert.True(await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.pending") == 1, s_patience, Timeout), "the connection was not held");
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, scene.Metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_timed_out")));
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, scene.Metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_timed_out")));
        Assert.Equal(0, scene.Metrics.Sum("kestreltfo.early_data.pending"));
        Assert.Equal(string.Empty, (await exchange.WaitAsync(s_patience, Timeout)).Response);
        scene.AssertOnlyTheGuardLogged();
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Stalled_deferrals_do_not_hold_up_anyone_else()
    {
        const int Stalled = 20;
        var time = new FakeTimeProvider();
        await using var scene = await Scene.StartAsync("Defer", time: time, toClientDelay: TimeSpan.FromSeconds(3), alsoLoopback: true);
        await RawHttp.SendAsync(scene.Server, RawHttp.Request("/tfo"), Timeout, createSocket: scene.ClientSocket, reset: true);

        var stalled = Enumerable.Range(0, Stalled)
            .Select(_ => RawHttp.SendAsync(scene.Server, SynPayloads.NearClientHello, Timeout, createSocket: scene.ClientSocket, tolerateReset: true))
            .ToArray();
        Assert.True(await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.pending") == Stalled, s_patience, Timeout));

        // Served while every stalled connection still waits: the accept loop never waits for a deferral.
        using var client = new HttpClient { BaseAddress = new Uri($"http://{scene.LoopbackServer}") };
        for (var i = 0; i < 20; i++)
        {
            Assert.Contains("hasFeature", await client.GetStringAsync("/tfo", Timeout), StringComparison.Ordinal);
        }

        Assert.Equal(Stalled, scene.Metrics.Sum("kestreltfo.early_data.pending"));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(Stalled, scene.Metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_timed_out")));
        await Task.WhenAll(stalled).WaitAsync(s_patience, Timeout);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Shutdown_with_deferrals_pending_ends_them_and_leaves_no_socket_behind()
    {
        const int Stalled = 5;
        var time = new FakeTimeProvider();

        // The SYN-ACKs take 10 s to reach the clients, so no stalled handshake can complete, and end its deferral, in
        // the time the shutdown is given below.
        var synAckDelay = TimeSpan.FromSeconds(10);
        var scene = await Scene.StartAsync("Defer", time: time, toClientDelay: synAckDelay);
        try
        {
            await RawHttp.SendAsync(scene.Server, RawHttp.Request("/tfo"), Timeout, createSocket: scene.ClientSocket, reset: true);
            var sent = Stopwatch.GetTimestamp();
            var stalled = Enumerable.Range(0, Stalled)
                .Select(_ => RawHttp.SendAsync(scene.Server, SynPayloads.NearClientHello, Timeout, createSocket: scene.ClientSocket, tolerateReset: true))
                .ToArray();
            Assert.True(await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.pending") == Stalled, s_patience, Timeout));

            // The app's clock stands still, so only the shutdown can end the deferrals. Their ends are recorded as the
            // shutdown unwinds them, which may finish just after StopAsync returns: waited for, bounded by the moment
            // the first SYN-ACK could reach a client, before which nothing else can end one.
            await scene.StopAppAsync().WaitAsync(s_patience, Timeout);
            var beforeAnyHandshake = synAckDelay - Stopwatch.GetElapsedTime(sent) - TimeSpan.FromSeconds(1);
            Assert.True(beforeAnyHandshake > TimeSpan.Zero, "the shutdown took so long that a handshake could have ended a deferral");
            Assert.True(
                await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.early_data.pending") == 0, beforeAnyHandshake, Timeout),
                $"{scene.Metrics.Sum("kestreltfo.early_data.pending")} deferral(s) still pending after the shutdown");
            Assert.Equal(0, scene.Metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferral_timed_out")));
            Assert.True(
                await Bounded.UntilAsync(() => TcpTable.CountLocal(scene.Server) == 0, beforeAnyHandshake, Timeout),
                $"sockets left, by state: {TcpTable.DescribeLocal(scene.Server)}");
            await Task.WhenAll(stalled).WaitAsync(s_patience, Timeout);
        }
        finally
        {
            await scene.DisposeAsync();
        }
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

    /// <summary>A server behind an emulated link, optionally one that replays every SYN with data, and the client on the other side.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly KestrelAppFactory<Program> _app;
        private bool _stopped;

        private Scene(EmulatedLink link, KestrelAppFactory<Program> app)
        {
            Link = link;
            _app = app;
            Metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
            Ledger = app.Services.GetRequiredService<RequestLedger>();
            Server = app.EndPoints.Single(e => e.Address.Equals(link.ServerAddress));
            LoopbackServer = app.EndPoints.FirstOrDefault(e => !e.Address.Equals(link.ServerAddress));
        }

        public EmulatedLink Link { get; }

        public MetricsCollector Metrics { get; }

        public RequestLedger Ledger { get; }

        public IPEndPoint Server { get; }

        public IPEndPoint? LoopbackServer { get; }

        public static Task<Scene> StartAsync(
            string policy,
            bool replay = false,
            bool debounce = false,
            FakeTimeProvider? time = null,
            TimeSpan? toClientDelay = null,
            bool alsoLoopback = false,
            TimeSpan? replayAfter = null,
            bool kernelFilter = true,
            string? unsafeRequests = null)
        {
            FastOpenEnvironment.RequireClientAndServerBits();
            var options = new EmulatedLinkOptions().WithRoundTripTime(s_roundTrip);
            if (replay)
            {
                options.ToServer.ReplaySynWithDataAfter = replayAfter ?? s_replayAfter;
            }

            if (toClientDelay is { } delay)
            {
                options.ToClient.Delay = delay;
            }

            var link = LinkEnvironment.Start(options);
            var settings = new Dictionary<string, string?>
            {
                ["Kestrel:FastOpen:EarlyDataPolicy"] = policy,
                ["Kestrel:FastOpen:KernelEarlyDataFilter"] = kernelFilter ? "true" : "false",
            };
            if (unsafeRequests is not null)
            {
                settings["Kestrel:FastOpen:UnsafeEarlyDataRequests"] = unsafeRequests;
            }

            if (debounce)
            {
                settings["Kestrel:FastOpen:ClientHelloDebounceWindow"] = "00:00:30";
            }

            var loopback = Loopback.NextAddress();
            var app = new KestrelAppFactory<Program>(
                settings,
                listen: o =>
                {
                    o.Listen(link.ServerAddress, 0);
                    if (alsoLoopback)
                    {
                        o.Listen(loopback, 0);
                    }
                },
                configure: time is null ? null : web => web.ConfigureServices(services => services.AddSingleton<TimeProvider>(time)));
            return Task.FromResult(new Scene(link, app));
        }

        public Socket ClientSocket() => Link.CreateClientSocket();

        /// <summary>A cookie connection, then a TFO one whose first write rides in the SYN; each ends with a reset.</summary>
        public async Task SendTwiceAsync(byte[] request)
        {
            await RawHttp.SendAsync(Server, request, Timeout, createSocket: ClientSocket, reset: true, tolerateReset: true);
            await RawHttp.SendAsync(Server, request, Timeout, createSocket: ClientSocket, reset: true, tolerateReset: true);
        }

        public IReadOnlyList<LogEntry> Logs => _app.Logs.Transport;

        /// <summary>Nothing at Warning or above from Kestrel or the transport: the guard's own lines are below that.</summary>
        public void AssertOnlyTheGuardLogged() =>
            Assert.DoesNotContain(_app.Logs.Entries, e => e.Level >= LogLevel.Warning
                && (e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || e.Category.StartsWith("KestrelTfo", StringComparison.Ordinal)));

        public async Task StopAppAsync()
        {
            _stopped = true;
            await _app.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            Metrics.Dispose();
            if (!_stopped)
            {
                await _app.DisposeAsync();
            }

            Link.Dispose();
        }
    }
}
