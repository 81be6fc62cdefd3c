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

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// One client that holds a valid cookie sends 1,000 SYNs carrying a POST, in batches of 100 the server takes before the
/// next, and never acknowledges a SYN-ACK (an nftables rule in its namespace drops everything it sends but SYNs); then
/// another client on the same link opens new connections while the attack holds its places. Each of the attacker's SYNs
/// makes a TCP Fast Open connection that waits for its handshake in the listener's kernel queue.
/// </summary>
public sealed class StalledHandshakeTests
{
    private const int AttackSyns = 1000;

    // Well within the kernel's queue (QueueLength, less the attacker's share), so none of a batch finds it full.
    private const int AttackBatch = 100;

    // Below the kernel's ephemeral ports (32768 up), which the other sockets take.
    private const int AttackFirstPort = 20000;
    private const int VictimRequests = 20;
    private const int PerClientLimit = 32;

    private static readonly int s_queueLength = new FastOpenTransportOptions().QueueLength;

    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(20);

    // The default: the victim's requests run well within it while the attack holds, even on a loaded machine.
    private static readonly TimeSpan s_handshakeTimeout = new FastOpenTransportOptions().FastOpenHandshakeTimeout;

    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(20);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.LongTest)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    public async Task One_stalling_client_holds_only_its_share_and_everyone_else_keeps_TFO(string policy)
    {
        await using var scene = await Scene.StartAsync(policy, PerClientLimit);

        var victimShare = await scene.AttackAsync();

        // Every other client kept TCP Fast Open and was served while the attack held its places.
        Assert.True(victimShare >= 0.9 * VictimRequests, $"{victimShare} of {VictimRequests} victim connections used TFO");

        // The attacker's first 32 waited for their handshakes until the bound reset them; every later one was reset as
        // soon as it was accepted.
        Assert.True(scene.Metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "client_limit")) > 0);
        Assert.True(
            await scene.Metrics.WaitUntilAsync(m => m.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "timed_out")) == PerClientLimit, s_handshakeTimeout + s_patience, Timeout),
            $"timed out: {scene.Metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "timed_out"))}");

        // Within the bound the server holds no socket for the attack: no descriptor, no orphan in the kernel. (The SYNs
        // that found the queue full wait in the kernel's SYN queue as any unanswered SYN does; they are no sockets.)
        await scene.AssertServerSocketsBackToBaselineAsync();
        Assert.Equal(0, scene.Metrics.Sum("kestreltfo.handshake.pending"));

        // None of the POSTs reached the app: under Defer the kernel kept them out of the SYNs; under Flag each admitted one
        // waited for a handshake that never came.
        Assert.Empty(scene.Ledger.Transfers);
        Assert.DoesNotContain(scene.Logs, e => e.EventId.Name == nameof(FastOpenLog.QueueFull));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Without_a_per_client_limit_the_same_attack_takes_TFO_from_everyone_until_the_bound()
    {
        // The attack the limit exists for, shown to work: the queue fills, and the other client falls back.
        await using var scene = await Scene.StartAsync("Flag", perClientLimit: null);

        // The SYNs that fill the queue and one batch more: the rest would only add half-open connections, and past the
        // listen backlog the kernel would answer with SYN cookies, which take TFO from everyone in any case.
        var victimShare = await scene.AttackAsync(s_queueLength + AttackBatch);

        Assert.True(victimShare <= 0.1 * VictimRequests, $"{victimShare} of {VictimRequests} victim connections used TFO");
        Assert.Single(scene.Logs, e => e.EventId.Name == nameof(FastOpenLog.QueueFull) && e.Message.Contains(scene.Server.ToString(), StringComparison.Ordinal));

        // The bound still frees every place.
        await scene.AssertServerSocketsBackToBaselineAsync();
        Assert.Equal(0, scene.Metrics.Sum("kestreltfo.handshake.pending"));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_client_beyond_its_share_within_one_round_trip_has_the_extra_connections_reset_and_the_rest_served()
    {
        // What a legitimate client behind a busy address sees: more TCP Fast Open connections at once than its share.
        const int Limit = 4;
        const int AtOnce = 10;
        await using var scene = await Scene.StartAsync("Flag", Limit, roundTrip: TimeSpan.FromMilliseconds(200));
        await scene.GetAsync(scene.Victim);

        var exchanges = await Task.WhenAll(Enumerable.Range(0, AtOnce).Select(_ => scene.GetAsync(scene.Victim, tolerateReset: true)));

        // Every SYN arrived within one round trip, so the first four were waiting for their handshakes as the rest came.
        Assert.Equal(Limit, exchanges.Count(e => !e.Reset && e.Response.Contains("\"isFastOpen\":true", StringComparison.Ordinal)));
        Assert.Equal(AtOnce - Limit, exchanges.Count(e => e.Reset && e.Response.Length == 0));
        Assert.Equal(AtOnce - Limit, scene.Metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "client_limit")));
    }

    [Theory(Timeout = Limits.LongTest)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    public async Task An_answer_the_app_closes_before_the_handshake_completes_still_ends_with_a_FIN(string policy)
    {
        // HTTP/1.0: the app answers the request in the SYN and closes before the client's ACK can arrive. While the
        // handshake is pending every close would be a reset; the FIN waits for the handshake instead.
        await using var scene = await Scene.StartAsync(policy, PerClientLimit, roundTrip: TimeSpan.FromMilliseconds(200));
        await scene.GetAsync(scene.Victim);

        var exchange = await scene.GetAsync(scene.Victim);

        Assert.False(exchange.Reset);
        Assert.Contains("\"isFastOpen\":true", exchange.Response, StringComparison.Ordinal);
        Assert.EndsWith("}", exchange.Response, StringComparison.Ordinal);
        await scene.AssertServerSocketsBackToBaselineAsync();
    }

    private sealed class Scene : IAsyncDisposable
    {
        private readonly KestrelAppFactory<Program> _app;
        private readonly int _baseline;
        private readonly IPAddress _attacker;

        // Without a per-client limit the attack's connections fill the queue, and the kernel makes no more.
        private readonly int _takeable;

        private Scene(EmulatedLink link, KestrelAppFactory<Program> app, IPAddress attacker, IPAddress victim, int? perClientLimit)
        {
            _takeable = perClientLimit is null ? s_queueLength : int.MaxValue;
            Link = link;
            _app = app;
            _attacker = attacker;
            Victim = victim;
            Metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
            Ledger = app.Services.GetRequiredService<RequestLedger>();
            Server = app.EndPoint;

            // The listening socket.
            _baseline = TcpTable.CountLocalSockets(Server);
        }

        public EmulatedLink Link { get; }

        public MetricsCollector Metrics { get; }

        public RequestLedger Ledger { get; }

        public IPEndPoint Server { get; }

        /// <summary>A client that plays by the rules.</summary>
        public IPAddress Victim { get; }

        public IReadOnlyList<LogEntry> Logs => _app.Logs.Transport;

        public static async Task<Scene> StartAsync(string policy, int? perClientLimit, TimeSpan? roundTrip = null)
        {
            FastOpenEnvironment.RequireClientAndServerBits();
            var link = LinkEnvironment.Start(new EmulatedLinkOptions().WithRoundTripTime(roundTrip ?? s_roundTrip));
            try
            {
                var attacker = await LinkClients.AddAddressAsync(link, Timeout);
                var victim = await LinkClients.AddAddressAsync(link, Timeout);
                var app = new KestrelAppFactory<Program>(
                    new()
                    {
                        ["Kestrel:FastOpen:EarlyDataPolicy"] = policy,
                        ["Kestrel:FastOpen:MaxPendingHandshakesPerClient"] = perClientLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                    listen: o => o.Listen(link.ServerAddress, 0));
                return new Scene(link, app, attacker, victim, perClientLimit);
            }
            catch
            {
                link.Dispose();
                throw;
            }
        }

        /// <summary>The attack, and the victim's requests while it holds; returns how many of those used TFO.</summary>
        public async Task<int> AttackAsync(int syns = AttackSyns)
        {
            // A cookie each, on connections that complete.
            await RawHttp.SendAsync(Server, RawHttp.Request("/tfo"), Timeout, createSocket: () => LinkClients.SocketFrom(Link, _attacker));
            await GetAsync(Victim);

            await LinkClients.DropAllButSynsAsync(Link, _attacker, Server, Timeout);
            var post = RawHttp.Post("/transfer");
            var held = Stopwatch.StartNew();
            for (var sent = 0; sent < syns;)
            {
                for (var i = 0; i < AttackBatch && sent < syns; i++, sent++)
                {
                    // The write sends the SYN with the POST and returns at once; the socket closes before the SYN-ACK
                    // comes, and the reset that SYN-ACK earns is dropped like every other segment but a SYN. Each from a
                    // port of its own: a port the kernel picked again would meet the server's connection from the last
                    // SYN that used it, still waiting for its handshake, and make no new one.
                    using var socket = LinkClients.SocketFrom(Link, _attacker, AttackFirstPort + sent);
                    FastOpenConnect.Set(socket, enabled: true);
                    await socket.ConnectAsync(Server, Timeout);
                    await socket.SendAsync(post, SocketFlags.None, Timeout);
                }

                // An attacker the accept loop keeps up with: the server takes each batch before the next comes. One that
                // outruns the loop overflows the kernel's queue, and past the listen backlog those SYNs are a SYN flood,
                // which the kernel answers with SYN cookies and no TCP Fast Open for anyone (docs/hardening.md).
                Assert.True(
                    await Metrics.WaitUntilAsync(m => Taken(m) == Math.Min(sent, _takeable), s_patience, Timeout),
                    $"the server took {Taken(Metrics)} of the attack's {sent} connections");
            }

            var tfo = 0;
            for (var i = 0; i < VictimRequests; i++)
            {
                var exchange = await GetAsync(Victim);
                // The server's word: under Defer the kernel's filter keeps a GET out of the SYN, yet the connection used TFO.
                Assert.Contains("\"hasFeature\":true", exchange.Response, StringComparison.Ordinal);
                tfo += exchange.Response.Contains("\"isFastOpen\":true", StringComparison.Ordinal) ? 1 : 0;
            }

            // Still within the bound, so the attack held its places throughout.
            Assert.True(
                Metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "timed_out")) == 0,
                $"the bound ({s_handshakeTimeout}) freed the attack's places before the other client was done, {held.Elapsed} after the first SYN");
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"attack: {syns} SYNs; reset at accept (client_limit): {Metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "client_limit"))}; "
                + $"waiting: {Metrics.Sum("kestreltfo.handshake.pending")}; other client: {tfo} of {VictimRequests} new connections with TFO");
            return tfo;
        }

        /// <summary>The attack's connections the server has accepted: each waits for its handshake, or was reset.</summary>
        private static long Taken(MetricsCollector metrics) =>
            metrics.Sum("kestreltfo.handshake.pending")
            + metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "client_limit"))
            + metrics.Sum("kestreltfo.handshake.aborted", ("kestreltfo.handshake.abort_reason", "timed_out"));

        /// <summary>A TCP Fast Open GET of <c>/tfo</c> (HTTP/1.0, so the server closes) from <paramref name="client"/>.</summary>
        public Task<RawExchange> GetAsync(IPAddress client, bool tolerateReset = false) =>
            RawHttp.SendAsync(Server, RawHttp.Request("/tfo"), Timeout, createSocket: () => LinkClients.SocketFrom(Link, client), tolerateReset: tolerateReset);

        public async Task AssertServerSocketsBackToBaselineAsync()
        {
            await Bounded.UntilAsync(() => TcpTable.CountLocalSockets(Server) <= _baseline, s_handshakeTimeout + s_patience, Timeout);
            Assert.Equal(_baseline, TcpTable.CountLocalSockets(Server));
        }

        public async ValueTask DisposeAsync()
        {
            Metrics.Dispose();
            await _app.DisposeAsync();
            Link.Dispose();
        }
    }
}
