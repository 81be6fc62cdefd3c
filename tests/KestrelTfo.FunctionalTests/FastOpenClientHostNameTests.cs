using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests;

/// <summary>The TFO HttpClient handler with the ways a URI names its host: a name, a name that does not resolve, an IPv6 literal.</summary>
public sealed class FastOpenClientHostNameTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_host_name_is_resolved_and_its_second_connection_carries_the_request_in_the_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Assert.Single(await Dns.GetHostAddressesAsync("localhost", System.Net.Sockets.AddressFamily.InterNetwork, Timeout));
        await using var app = new KestrelAppFactory<Program>(listen: options => options.Listen(address, 0));
        var server = new Uri($"http://localhost:{app.EndPoint.Port}");
        using var log = new ClientLog();

        // The kernel keeps one cookie per server address, and other tests and samples use 127.0.0.1 too: the first
        // request fetches a cookie unless one of them already has.
        await FastOpenHttp.ReportAsync(server, log);
        var fastOpen = await FastOpenHttp.ReportAsync(server, log);

        Assert.True(fastOpen.Report.IsFastOpen);
        Assert.Equal((EarlyDataKind.HttpRequest, "GET"), (fastOpen.Report.EarlyDataKind, fastOpen.Report.EarlyDataMethod));
        Assert.Equal("DataAccepted", log.Connections[^1]);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("http")]
    [InlineData("https")]
    public async Task A_name_that_does_not_resolve_fails_as_with_SocketsHttpHandlers_own_connect(string scheme)
    {
        // .invalid never resolves (RFC 6761).
        var uri = new Uri($"{scheme}://kestreltfo-test.invalid:8080/tfo");
        using var log = new ClientLog();

        using var plainClient = new HttpClient(FastOpenHttp.Handler(log: null));
        var expected = await Assert.ThrowsAsync<HttpRequestException>(() => plainClient.GetAsync(uri, Timeout));
        using var fastOpenClient = new HttpClient(FastOpenHttp.Handler(log));
        var actual = await Assert.ThrowsAsync<HttpRequestException>(() => fastOpenClient.GetAsync(uri, Timeout));

        Assert.Equal(HttpRequestError.NameResolutionError, expected.HttpRequestError);
        Assert.Equal(expected.HttpRequestError, actual.HttpRequestError);
        Assert.Equal(expected.InnerException?.GetType(), actual.InnerException?.GetType());
        Assert.Empty(log.Connections);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_bracketed_IPv6_literal_connects_with_TFO(bool https)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextIPv6Address();
        await using var app = new KestrelAppFactory<Program>(listen: FastOpenHttp.Listen(address, https));
        var server = new Uri($"{(https ? "https" : "http")}://[{address}]:{app.EndPoint.Port}");
        using var log = new ClientLog();

        // An IPv6 address of this test's own: the first request fetches the cookie, the second rides in the SYN.
        await FastOpenHttp.ReportAsync(server, log);
        var fastOpen = await FastOpenHttp.ReportAsync(server, log);

        Assert.True(fastOpen.Report.IsFastOpen);
        Assert.Equal(https ? EarlyDataKind.TlsClientHello : EarlyDataKind.HttpRequest, fastOpen.Report.EarlyDataKind);
        Assert.Equal(["CookieRequested", "DataAccepted"], log.Connections);
    }
}
