using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using KestrelTfo.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.FunctionalTests.Tls;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Counts round trips over an emulated link, from the segments it carried, of HttpClient with
/// <see cref="FastOpenHttpsHandler"/> against a KestrelTfo endpoint that accepts early data: once the handler holds a
/// ticket and the kernel a cookie, a new connection's GET rides in the SYN with the ClientHello and is answered in one
/// round trip; a POST waits for the handshake and takes two.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
[SupportedOSPlatform("linux")]
public sealed class HttpClientEarlyDataRoundTripTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_returning_HttpClients_GET_is_answered_in_one_round_trip_and_its_POST_in_two()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // As in TlsEarlyDataRoundTripTests: long enough that a busy machine's pauses cause no retransmission.
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions { TraceCapacity = 4096 }.WithRoundTripTime(TimeSpan.FromMilliseconds(200)));
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true, at: new IPEndPoint(link.ServerAddress, 0));
        Socket? last = null;
        var connector = new FastOpenConnector(new FastOpenConnectOptions { TlsEarlyData = true, CreateSocket = _ => last = link.CreateClientSocket() });
        var inner = new SocketsHttpHandler();
        inner.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificate.IsTheOne(certificate);
        using var handler = new FastOpenHttpsHandler(inner, connector);
        using var client = new HttpClient(handler);
        var origin = new Uri($"https://{app.EndPoint}");

        async Task<FirstByteTiming> TimeAsync(HttpMethod method, string path)
        {
            using var request = new HttpRequestMessage(method, new Uri(origin, path));
            request.Headers.ConnectionClose = true;
            if (method == HttpMethod.Post)
            {
                request.Content = new StringContent("amount=1000");
            }

            var opened = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Timeout);
            var firstByte = Stopwatch.GetTimestamp();
            var port = ((IPEndPoint)last!.LocalEndPoint!).Port;
            response.EnsureSuccessStatusCode();
            await response.Content.CopyToAsync(Stream.Null, Timeout);

            // Each connection's ticket, for the next one: after a response from early data it comes a round trip later.
            Assert.True(await Bounded.UntilAsync(() => handler.StoredSessions == 1, s_limit, Timeout));
            return new FirstByteTiming(opened, firstByte, port);
        }

        var first = await TimeAsync(HttpMethod.Get, "/visit");
        var earlyGet = await TimeAsync(HttpMethod.Get, "/visit");
        var post = await TimeAsync(HttpMethod.Post, "/transfer");
        var trace = link.Trace!.Drain();

        Assert.Equal(0, link.Trace.Missed);
        Assert.Equal(3, RoundTrips.Of(first, trace));
        Assert.Equal(1, RoundTrips.Of(earlyGet, trace));
        Assert.Equal(2, RoundTrips.Of(post, trace));
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        Assert.Equal((2, 1), (ledger.Visits, ledger.Transfers.Count));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_425_Too_Early_is_answered_by_sending_the_request_again_not_in_early_data()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.StartSlowTowardClient();
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true, at: new IPEndPoint(link.ServerAddress, 0));
        using var server = OpenSslEndpoint.TlsMetrics(app);
        using var client = new EarlyDataHttpClient(createSocket: _ => link.CreateClientSocket());
        var uri = new Uri($"https://{app.EndPoint}/early-data-too-early");

        var first = await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);
        Assert.True(await client.WaitForSessionsAsync(1));
        var second = await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);

        Assert.Equal(("none", "none"), (first, second));
        Assert.Equal(1, client.EarlyData("accepted"));
        Assert.Equal(1, server.Sum("kestreltfo.early_data.requests", ("kestreltfo.early_data.handling", "too_early")));
        Assert.Single(client.Log.WithEvent("RequestOnHandlerTls"), e => e.Message.Contains("425", StringComparison.Ordinal));
    }
}
