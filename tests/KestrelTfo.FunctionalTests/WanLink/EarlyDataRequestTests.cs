using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// The early-data guard for requests (RFC 8470) under <see cref="EarlyDataPolicy.Flag"/>, over a link with a real round
/// trip, so that a request from a SYN reaches the app while its connection's handshake is still under way.
/// </summary>
public sealed class EarlyDataRequestTests
{
    private static readonly TimeSpan s_toServer = TimeSpan.FromMilliseconds(50);

    // The handshake completes when the client's ACK of the SYN-ACK arrives, so a request from a SYN is "before the
    // handshake" only while the app answers within one round trip. Holding the server-to-client direction this long
    // gives the app all that time (it needs milliseconds, a loaded machine a few hundred), so the race has one outcome.
    private static readonly TimeSpan s_slowToClient = TimeSpan.FromSeconds(1);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_GET_from_the_SYN_runs_at_once_and_says_it_may_be_a_replay()
    {
        await using var scene = await Scene.StartAsync();
        using var metrics = new MetricsCollector(scene.Services.GetRequiredService<IMeterFactory>(), FastOpenMetrics.MeterName, "Microsoft.AspNetCore.Hosting");

        Assert.EndsWith("early RunAtOnce proxy=False possibleReplay=True", await scene.SendInSynAsync(Get("/early-data")), StringComparison.Ordinal);

        // A plain connection's request is no early data.
        Assert.EndsWith("none", await scene.SendPlainAsync(Get("/early-data")), StringComparison.Ordinal);
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.requests", ("kestreltfo.early_data.handling", "run_at_once"), ("kestreltfo.early_data.from_proxy", false)));
        Assert.Equal(1, metrics.Sum("http.server.request.duration", ("kestreltfo.early_data", true)));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task TooEarly_answers_a_POST_from_the_SYN_with_425_and_runs_nothing()
    {
        await using var scene = await Scene.StartAsync(new() { ["Kestrel:FastOpen:UnsafeEarlyDataRequests"] = "TooEarly" });

        var response = await scene.SendInSynAsync(RawHttp.Post("/transfer"));

        Assert.StartsWith("HTTP/1.1 425", response, StringComparison.Ordinal);
        Assert.Empty(scene.Ledger.Transfers);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task An_idempotent_endpoint_runs_at_once_and_a_strict_one_waits_even_for_a_GET()
    {
        // The guard runs before the app's routing, and asks routing for the endpoint itself.
        await using var scene = await Scene.StartAsync();

        var idempotent = await scene.SendInSynAsync(Encoding.ASCII.GetBytes(
            "POST /transfer-idempotent HTTP/1.0\r\nHost: test\r\nContent-Length: 11\r\n\r\namount=1000"));
        var strict = await scene.SendInSynAsync(Get("/early-data-strict"));

        Assert.EndsWith("early RunAtOnce proxy=False possibleReplay=True", idempotent, StringComparison.Ordinal);
        Assert.Single(scene.Ledger.Transfers);
        Assert.EndsWith("early WaitForHandshake proxy=False possibleReplay=False", strict, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Finding_the_endpoint_runs_nothing_even_for_a_short_circuit_one()
    {
        await using var scene = await Scene.StartAsync();

        Assert.EndsWith("visited", await scene.SendInSynAsync(Get("/visit-short-circuit")), StringComparison.Ordinal);
        Assert.EndsWith("visited", await scene.SendInSynAsync(Get("/visit")), StringComparison.Ordinal);

        Assert.Equal(2, scene.Ledger.Visits);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_request_a_proxy_marked_Early_Data_is_refused_425_when_unsafe_and_marked_when_safe()
    {
        await using var scene = await Scene.StartAsync();

        // Over a plain connection: the proxy's client is the one whose handshake was under way, and nothing here can
        // wait for it.
        var post = await scene.SendPlainAsync(Encoding.ASCII.GetBytes(
            "POST /transfer HTTP/1.0\r\nHost: test\r\nEarly-Data: 1\r\nContent-Length: 11\r\n\r\namount=1000"));
        var get = await scene.SendPlainAsync(Encoding.ASCII.GetBytes("GET /early-data HTTP/1.0\r\nHost: test\r\nEarly-Data: 1\r\n\r\n"));

        // Any value counts (RFC 8470, section 5.1): a second or an invalid instance is no way around the guard.
        var twice = await scene.SendPlainAsync(Encoding.ASCII.GetBytes(
            "POST /transfer HTTP/1.0\r\nHost: test\r\nEarly-Data: 1\r\nEarly-Data: 1\r\nContent-Length: 11\r\n\r\namount=1000"));
        var invalid = await scene.SendPlainAsync(Encoding.ASCII.GetBytes(
            "POST /transfer HTTP/1.0\r\nHost: test\r\nEarly-Data: yes\r\nContent-Length: 11\r\n\r\namount=1000"));

        Assert.StartsWith("HTTP/1.1 425", post, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 425", twice, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 425", invalid, StringComparison.Ordinal);
        Assert.Empty(scene.Ledger.Transfers);
        Assert.EndsWith("early RunAtOnce proxy=True possibleReplay=True", get, StringComparison.Ordinal);
    }

    private static byte[] Get(string path) => RawHttp.Request(path);

    private sealed class Scene : IAsyncDisposable
    {
        private readonly EmulatedLink _link;
        private readonly KestrelAppFactory<Program> _app;
        private readonly IPEndPoint _server;
        private bool _cookie;

        private Scene(EmulatedLink link, KestrelAppFactory<Program> app)
        {
            _link = link;
            _app = app;
            _server = app.EndPoint;
            Ledger = app.Services.GetRequiredService<RequestLedger>();
        }

        public RequestLedger Ledger { get; }

        public IServiceProvider Services => _app.Services;

        public static Task<Scene> StartAsync(Dictionary<string, string?>? settings = null)
        {
            FastOpenEnvironment.RequireClientAndServerBits();
            var link = LinkEnvironment.Start(new EmulatedLinkOptions { ToServer = { Delay = s_toServer }, ToClient = { Delay = s_slowToClient } });
            settings ??= [];
            settings["Kestrel:FastOpen:EarlyDataPolicy"] = "Flag";
            return Task.FromResult(new Scene(link, new KestrelAppFactory<Program>(settings, listen: o => o.Listen(link.ServerAddress, 0))));
        }

        /// <summary>Sends <paramref name="request"/> in a SYN (after a cookie connection, the first time) and returns the answer.</summary>
        public async Task<string> SendInSynAsync(byte[] request)
        {
            if (!_cookie)
            {
                await RawHttp.SendAsync(_server, Get("/tfo"), Timeout, createSocket: () => _link.CreateClientSocket());
                _cookie = true;
            }

            var exchange = await RawHttp.SendAsync(_server, request, Timeout, createSocket: () => _link.CreateClientSocket());
            Assert.True(exchange.SynDataAcknowledged, "the request did not ride in the SYN");
            return exchange.Response;
        }

        public async Task<string> SendPlainAsync(byte[] request) =>
            (await RawHttp.SendAsync(_server, request, Timeout, fastOpen: false, createSocket: () => _link.CreateClientSocket())).Response;

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            _link.Dispose();
        }
    }
}
