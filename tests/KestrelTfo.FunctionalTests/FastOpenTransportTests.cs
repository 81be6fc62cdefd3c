using System.Net.Http.Json;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests;

public sealed class FastOpenTransportTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Second_connection_from_a_TFO_client_carries_its_request_in_the_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();

        var cookieRequest = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);
        var fastOpen = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);
        var plain = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: false, Timeout);

        // The first connection only fetches the cookie; the second sends the whole request in its SYN.
        Assert.Equal(200, cookieRequest.StatusCode);
        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), cookieRequest.Report());
        Assert.Equal(200, fastOpen.StatusCode);
        Assert.Equal(new FastOpenReport(true, true, RawHttp.Request("/tfo").Length, EarlyDataKind.HttpRequest, "GET", EarlyDataAction.Flagged), fastOpen.Report());
        Assert.Equal(new FastOpenReport(true, false, 0), plain.Report());
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Feature_reaches_HttpClient_requests_over_keep_alive_connections()
    {
        await using var app = new KestrelAppFactory<Program>();
        using var client = app.CreateClient();

        var first = await client.GetFromJsonAsync<FastOpenReport>("/tfo", Timeout);
        var second = await client.GetFromJsonAsync<FastOpenReport>("/tfo", Timeout);

        // HttpClient does not use TFO, so the feature is there and says so, on every request of the connection.
        Assert.Equal(new FastOpenReport(true, false, 0), first);
        Assert.Equal(first, second);
    }

}
