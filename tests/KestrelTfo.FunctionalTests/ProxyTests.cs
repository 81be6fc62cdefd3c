extern alias Proxy;
extern alias Sample;

using System.Diagnostics.Metrics;
using System.Net;
using KestrelTfo.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.FunctionalTests.Tls;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ProxyProgram = Proxy::Program;
using SampleProgram = Sample::Program;
using TestAppProgram = Program;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// The FastOpenProxy sample (YARP on the TCP Fast Open transport, forwarding through KestrelTfo.Client) in front of a
/// backend on the TCP Fast Open transport, over loopback with real TFO on both legs. Each proxy is on a loopback
/// address of its own and each backend on another, so every leg's first connection fetches its own cookie.
/// </summary>
public sealed class ProxyTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_returning_client_reaches_the_proxy_with_TFO_and_a_new_backend_connection_carries_the_forwarded_GET_in_its_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = new KestrelAppFactory<SampleProgram>();

        await using (var proxy = StartProxy(backend.EndPoint))
        {
            using var metrics = ProxyMetrics(proxy);
            var first = await RawHttp.GetAsync(proxy.EndPoint, "/", fastOpen: true, Timeout);
            var second = await RawHttp.GetAsync(proxy.EndPoint, "/", fastOpen: true, Timeout);

            // The client's second connection rode in the SYN; the proxy's one backend connection fetched the backend's
            // cookie and, pooled, served both requests.
            Assert.Equal(1, metrics.Sum("kestreltfo.connections", ("kestreltfo.fast_open", false)));
            Assert.Equal(1, metrics.Sum("kestreltfo.connections", ("kestreltfo.fast_open", true)));
            Assert.Equal(["cookie_requested"], ClientOutcomes(metrics));
            Assert.Equal("this connection did not use TFO\n", first.Body);
            Assert.Equal("this connection did not use TFO\n", second.Body);
        }

        // As after a restart: a new proxy has no pooled connection, but the kernel still holds the backend's cookie.
        await using var restarted = StartProxy(backend.EndPoint);
        using var restartedMetrics = ProxyMetrics(restarted);
        var third = await RawHttp.GetAsync(restarted.EndPoint, "/", fastOpen: true, Timeout);

        Assert.Equal(["syn_data_accepted"], ClientOutcomes(restartedMetrics));
        Assert.Matches(@"^this connection used TFO \([1-9][0-9]* bytes of early data\)\n$", third.Body);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_backend_sees_the_forwarded_GET_as_its_early_data_and_a_POST_on_that_pooled_connection_as_after_the_handshake()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = new KestrelAppFactory<TestAppProgram>();
        var ledger = backend.Services.GetRequiredService<RequestLedger>();
        await using var proxy = await StartProxyWithTheBackendsCookieAsync(backend.EndPoint);
        using var metrics = ProxyMetrics(proxy);
        var get = (await RawHttp.GetAsync(proxy.EndPoint, "/tfo", fastOpen: true, Timeout)).Report();
        var post = RawResponse.Parse(await RawHttp.ExchangeAsync(proxy.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout)).Report();

        // YARP writes one HTTP/1.1 request head without a body, so the connector put it in the SYN, and the backend's
        // guard flagged the connection; the POST came later on the same connection, which is still flagged, but its
        // handshake had long completed, so the POST is no possible replay.
        Assert.Equal(["syn_data_accepted"], ClientOutcomes(metrics));
        Assert.Equal((true, EarlyDataKind.HttpRequest, "GET", EarlyDataAction.Flagged), (get.IsFastOpen, get.EarlyDataKind, get.EarlyDataMethod, get.EarlyDataAction));
        Assert.True(get.EarlyDataLength > 0);
        Assert.Equal(get, post);
        Assert.Equal([get], ledger.Transfers);
        Assert.Equal([false], ledger.PossibleReplays);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_forwarded_POST_never_rides_in_the_SYN_of_a_new_backend_connection()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = new KestrelAppFactory<TestAppProgram>();
        var ledger = backend.Services.GetRequiredService<RequestLedger>();
        await using var proxy = await StartProxyWithTheBackendsCookieAsync(backend.EndPoint);
        using var metrics = ProxyMetrics(proxy);
        var post = RawResponse.Parse(await RawHttp.ExchangeAsync(proxy.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout)).Report();

        // The cookie was there, yet the proxy's new connection waited for the handshake before writing the POST.
        Assert.Equal(["not_safe"], ClientOutcomes(metrics));
        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), post);
        Assert.Equal([false], ledger.PossibleReplays);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_end_clients_POST_in_a_SYN_is_the_proxys_guard_to_flag_and_reaches_the_backend_as_no_possible_replay()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = new KestrelAppFactory<TestAppProgram>();
        var ledger = backend.Services.GetRequiredService<RequestLedger>();
        await using var proxy = StartProxy(backend.EndPoint);
        using var metrics = ProxyMetrics(proxy);

        // Sent as curl --tcp-fastopen sends it: the second POST rides in the SYN to the proxy.
        await RawHttp.ExchangeAsync(proxy.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(proxy.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout);

        // Only the proxy's listener saw the SYN; the backend got both POSTs over the proxy's own connection, which
        // carried nothing in its SYN, so nothing there tells the second from a replay.
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "flagged")));
        Assert.Equal(["not_safe"], ClientOutcomes(metrics));
        Assert.All(ledger.Transfers, run => Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), run));
        Assert.Equal([false, false], ledger.PossibleReplays);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task To_an_https_backend_a_new_backend_connection_carries_the_forwarded_GET_as_TLS_early_data_and_a_marked_request_not()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var backendMetrics = OpenSslEndpoint.TlsMetrics(backend);
        await using var proxy = StartProxy(backend.EndPoint, https: true);
        using var metrics = ProxyMetrics(proxy);

        // The backend closes each connection after its answer, so every forwarded request opens a new one. The client's
        // connections to the proxy carry nothing in their SYNs: no request comes to the proxy as early data here.
        var first = await RawHttp.GetAsync(proxy.EndPoint, "/early-data-then-close", fastOpen: false, Timeout);
        Assert.True(await Bounded.UntilAsync(() => TcpTable.CountOpenTo(backend.EndPoint) == 0, s_limit, Timeout));
        var second = await RawHttp.GetAsync(proxy.EndPoint, "/early-data-then-close", fastOpen: false, Timeout);
        Assert.True(await Bounded.UntilAsync(() => TcpTable.CountOpenTo(backend.EndPoint) == 0, s_limit, Timeout));
        var marked = RawResponse.Parse(await RawHttp.ExchangeAsync(
            proxy.EndPoint, "GET /early-data-then-close HTTP/1.0\r\nHost: test\r\nEarly-Data: 1\r\n\r\n"u8.ToArray(), fastOpen: false, Timeout));

        // The first backend connection fetched a ticket; the second resumed and its ClientHello carried the GET as early
        // data, which the backend took. The request a proxy in front marked went on marked, after the handshake.
        Assert.Equal((200, 200), (first.StatusCode, second.StatusCode));
        Assert.Equal(1, backendMetrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
        Assert.Equal(1, backendMetrics.Count(TlsEarlyDataMetrics.InstrumentName));
        Assert.Equal(["no_session", "accepted", "not_safe"], metrics.TagValues("kestreltfo.client.tls.early_data", "kestreltfo.client.tls.early_data.outcome"));
        Assert.StartsWith("early RunAtOnce proxy=True", marked.Body, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task To_an_https_backend_a_forwarded_POST_with_a_body_goes_over_the_clients_own_TLS_after_the_handshake()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = OpenSslEndpoint.StartEarlyData(earlyData: true);
        var ledger = backend.Services.GetRequiredService<RequestLedger>();
        using var backendMetrics = OpenSslEndpoint.TlsMetrics(backend);
        await using var proxy = StartProxy(backend.EndPoint, https: true);
        using var metrics = ProxyMetrics(proxy);
        await RawHttp.GetAsync(proxy.EndPoint, "/early-data-then-close", fastOpen: false, Timeout);
        Assert.True(await Bounded.UntilAsync(() => TcpTable.CountOpenTo(backend.EndPoint) == 0, s_limit, Timeout));

        // YARP streams the body behind the head: a new backend connection of the client's own TLS carries it after the
        // handshake, although the proxy holds a ticket.
        var post = RawResponse.Parse(await RawHttp.ExchangeAsync(proxy.EndPoint, RawHttp.Post("/transfer"), fastOpen: false, Timeout)).Report();

        Assert.Equal(["no_session", "not_safe"], metrics.TagValues("kestreltfo.client.tls.early_data", "kestreltfo.client.tls.early_data.outcome"));
        Assert.Equal([post], ledger.Transfers);
        Assert.Equal([false], ledger.PossibleReplays);
        Assert.Equal(0, backendMetrics.Count(TlsEarlyDataMetrics.InstrumentName));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_proxy_reports_healthy_and_serves_both_sides_metrics_to_Prometheus()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var backend = new KestrelAppFactory<SampleProgram>();
        await using var proxy = StartProxy(backend.EndPoint);
        await RawHttp.GetAsync(proxy.EndPoint, "/", fastOpen: true, Timeout);
        using var client = proxy.CreateIndependentClient();

        Assert.Equal("Healthy", await client.GetStringAsync("/healthz", Timeout));
        var scrape = await client.GetStringAsync("/metrics", Timeout);
        Assert.Contains("kestreltfo_connections_total{otel_scope_name=\"KestrelTfo\",", scrape, StringComparison.Ordinal);
        Assert.Contains(
            $"kestreltfo_client_connections_total{{otel_scope_name=\"{FastOpenClientMetrics.MeterName}\",kestreltfo_client_outcome=\"cookie_requested\",server_address=\"{backend.EndPoint.Address}\",server_port=\"{backend.EndPoint.Port}\"}} 1\n",
            scrape,
            StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_count{", scrape, StringComparison.Ordinal);
    }

    /// <summary>
    /// The sample as configured in its appsettings.json, with its one destination moved to <paramref name="backend"/>, over
    /// https when <paramref name="https"/> says so (accepting the backend's test certificate).
    /// </summary>
    internal static KestrelAppFactory<ProxyProgram> StartProxy(
        IPEndPoint backend, Action<IServiceCollection>? services = null, Action<KestrelServerOptions>? listen = null, bool https = false) =>
        new(
            settings: https
                ? new()
                {
                    ["ReverseProxy:Clusters:backend:Destinations:hello:Address"] = $"https://{backend}/",
                    ["ReverseProxy:Clusters:backend:HttpClient:DangerousAcceptAnyServerCertificate"] = "true",
                }
                : new() { ["ReverseProxy:Clusters:backend:Destinations:hello:Address"] = $"http://{backend}/" },
            listen: listen,
            configure: services is null ? null : web => web.ConfigureServices(services));

    /// <summary>
    /// A proxy whose machine already holds the backend's cookie, which the first backend connection of a proxy before
    /// it fetched (a GET of the test app's <c>/tfo</c>): its own first backend connection is new and finds the cookie.
    /// </summary>
    internal static async Task<KestrelAppFactory<ProxyProgram>> StartProxyWithTheBackendsCookieAsync(IPEndPoint backend, Action<IServiceCollection>? services = null)
    {
        await using (var cookieProxy = StartProxy(backend, services))
        {
            await RawHttp.GetAsync(cookieProxy.EndPoint, "/tfo", fastOpen: true, Timeout);
        }

        return StartProxy(backend, services);
    }

    /// <summary>The proxy's listener and forwarding-client instruments.</summary>
    internal static MetricsCollector ProxyMetrics(KestrelAppFactory<ProxyProgram> proxy) =>
        new(proxy.Services.GetRequiredService<IMeterFactory>(), FastOpenMetrics.MeterName, FastOpenClientMetrics.MeterName);

    /// <summary>What became of each backend connection's first write, in order.</summary>
    internal static IReadOnlyList<object?> ClientOutcomes(MetricsCollector metrics) =>
        metrics.TagValues("kestreltfo.client.connections", "kestreltfo.client.outcome");
}
