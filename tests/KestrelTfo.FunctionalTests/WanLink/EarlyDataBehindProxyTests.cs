using KestrelTfo.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.FunctionalTests.Tls;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// The backend's guard for requests that come through the FastOpenProxy sample, with the proxy's backend connections
/// crossing an emulated link: there the backend answers a request that came in a SYN before the proxy's ACK arrives,
/// as over any real path, which loopback never shows; and with the proxy's clients across the link, a request the proxy
/// took before its client's handshake completed, which it forwards marked (RFC 8470).
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class EarlyDataBehindProxyTests
{
    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(100);

    // The handshake completes only when the SYN-ACK has crossed the link and the ACK it draws has come back, so holding
    // the link's server-to-client direction this long gives the server all that time to run the request from the SYN
    // (it needs milliseconds, the proxy forwarding it to its backend a few more) instead of the 50 ms a round trip would
    // leave it. Everything the server sends waits as long, in order, so nothing it sends after the SYN-ACK overtakes it.
    private static readonly TimeSpan s_slowSynAck = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task Only_the_request_in_a_new_backend_connections_SYN_may_be_a_replay_and_later_ones_on_that_pooled_connection_are_not()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.Start(SlowSynAck());
        await using var backend = new KestrelAppFactory<Program>(listen: options => options.Listen(link.ServerAddress, 0));
        var ledger = backend.Services.GetRequiredService<RequestLedger>();
        void AcrossTheLink(IServiceCollection services) =>
            services.Configure<FastOpenConnectOptions>(options => options.CreateSocket = _ => link.CreateClientSocket());
        await using var proxy = await ProxyTests.StartProxyWithTheBackendsCookieAsync(backend.EndPoint, AcrossTheLink);
        using var metrics = ProxyTests.ProxyMetrics(proxy);
        var inTheSyn = await RawHttp.GetAsync(proxy.EndPoint, "/possible-replay", fastOpen: true, Timeout);
        var afterIt = await RawHttp.GetAsync(proxy.EndPoint, "/possible-replay", fastOpen: true, Timeout);
        var post = RawResponse.Parse(await RawHttp.ExchangeAsync(proxy.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout)).Report();

        // One backend connection served all three: its SYN carried the first GET, which the backend answered before
        // the handshake completed; the second GET and the POST came after it, on the same flagged connection.
        Assert.Equal(["syn_data_accepted"], ProxyTests.ClientOutcomes(metrics));
        Assert.Equal(("true", "false"), (inTheSyn.Body, afterIt.Body));
        Assert.Equal((true, "GET", EarlyDataAction.Flagged), (post.IsFastOpen, post.EarlyDataMethod, post.EarlyDataAction));
        Assert.Equal([false], ledger.PossibleReplays);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_request_the_proxy_flagged_while_it_may_be_a_replay_reaches_the_backend_marked_Early_Data()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.Start(SlowSynAck());
        await using var backend = new KestrelAppFactory<Program>();
        await using var proxy = ProxyTests.StartProxy(backend.EndPoint, listen: options => options.Listen(link.ServerAddress, 0));
        await RawHttp.GetAsync(proxy.EndPoint, "/tfo", fastOpen: true, Timeout, createSocket: () => link.CreateClientSocket());

        // The end client's GET rides in its SYN to the proxy, which forwards it while the SYN-ACK is still held on the
        // link, so before the client's ACK can exist: a replayed SYN would be served the same way. A request after a plain handshake carries no mark.
        var inTheSyn = await RawHttp.GetAsync(proxy.EndPoint, "/early-data-header", fastOpen: true, Timeout, createSocket: () => link.CreateClientSocket());
        var afterAHandshake = await RawHttp.GetAsync(proxy.EndPoint, "/early-data-header", fastOpen: false, Timeout, createSocket: () => link.CreateClientSocket());

        Assert.Equal(("1", ""), (inTheSyn.Body, afterAHandshake.Body));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_GET_the_proxy_took_as_TLS_early_data_reaches_an_https_backend_marked_Early_Data_and_not_as_early_data()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.Start(SlowSynAck());
        await using var backend = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var backendMetrics = OpenSslEndpoint.TlsMetrics(backend);
        await using var proxy = ProxyTests.StartProxy(
            backend.EndPoint,
            listen: options => options.Listen(link.ServerAddress, 0, listen =>
                listen.UseOpenSslHttps(new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance }, earlyData: true)),
            https: true);
        using var proxyMetrics = ProxyTests.ProxyMetrics(proxy);
        using var client = new EarlyDataHttpClient(createSocket: _ => link.CreateClientSocket());
        var uri = new Uri($"https://{proxy.EndPoint}/early-data-then-close");

        // The first request fetches the client's ticket from the proxy and the proxy's from the backend. The second rides
        // as early data in the client's SYN, and the proxy forwards it while the SYN-ACK is still held on the link, so
        // before the client's Finished can exist: it goes on marked, and the proxy, although it holds a ticket for the
        // backend, sends it after the handshake.
        var first = await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);
        Assert.True(await Bounded.UntilAsync(() => TcpTable.CountOpenTo(backend.EndPoint) == 0, s_limit, Timeout));
        var early = await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);

        Assert.Equal("none", first);
        Assert.Equal(1, client.EarlyData("accepted"));
        Assert.StartsWith("early RunAtOnce proxy=True", early, StringComparison.Ordinal);
        Assert.Equal(
            ["no_session", "not_safe"],
            proxyMetrics.TagValues("kestreltfo.client.tls.early_data", "kestreltfo.client.tls.early_data.outcome"));
        Assert.Equal(0, backendMetrics.Count(TlsEarlyDataMetrics.InstrumentName));
    }

    private static EmulatedLinkOptions SlowSynAck()
    {
        var options = new EmulatedLinkOptions().WithRoundTripTime(s_roundTrip);
        options.ToClient.Delay = s_slowSynAck;
        return options;
    }
}
