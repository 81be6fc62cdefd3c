using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.FunctionalTests.Tls;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;
using KestrelTfo.OpenSsl.Client;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Counts round trips over an emulated link, from the segments it carried, of the project's TLS client with TCP Fast
/// Open and early data against a KestrelTfo endpoint that accepts early data: once the client holds a cookie and a
/// ticket, its ClientHello and request ride in the SYN, a GET is answered in one round trip and a POST, which waits for
/// the client's Finished, in two.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
[SupportedOSPlatform("linux")]
public sealed class TlsEarlyDataRoundTripTests
{
    [Fact(Timeout = Limits.LongTest)]
    public async Task With_TFO_and_early_data_a_GET_is_answered_in_one_round_trip_and_a_POST_in_two()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // Long enough that a busy machine's pauses stay well under the client's retransmission timeouts (twice the round
        // trip, at least): a retransmitted segment makes the walk through the trace impossible.
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions { TraceCapacity = 4096 }.WithRoundTripTime(TimeSpan.FromMilliseconds(200)));
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true, at: new IPEndPoint(link.ServerAddress, 0));
        using var get = new OpenSslFirstByteClient(fastOpen: true, post: false, "/visit", TestCertificate.Instance);
        using var post = new OpenSslFirstByteClient(fastOpen: true, post: true, "/transfer", TestCertificate.Instance);
        var cancellation = TestContext.Current.CancellationToken;
        Func<Socket> createSocket = () => link.CreateClientSocket();

        // The first connection fetches the cookie and a ticket; the POST client's first, a ticket of its own.
        var first = await get.TimeToFirstByteAsync(createSocket, app.EndPoint, https: true, cancellation);
        await post.TimeToFirstByteAsync(createSocket, app.EndPoint, https: true, cancellation);
        var earlyGet = await get.TimeToFirstByteAsync(createSocket, app.EndPoint, https: true, cancellation);
        var getHandshake = get.LastHandshake;
        var earlyPost = await post.TimeToFirstByteAsync(createSocket, app.EndPoint, https: true, cancellation);
        var trace = link.Trace!.Drain();

        Assert.Equal(0, link.Trace.Missed);
        Assert.Equal((true, ClientEarlyDataStatus.Accepted), (getHandshake!.IsResumed, getHandshake.EarlyData));
        Assert.Equal((true, ClientEarlyDataStatus.Accepted), (post.LastHandshake!.IsResumed, post.LastHandshake.EarlyData));
        Assert.Equal(3, RoundTrips.Of(first, trace));
        Assert.Equal(1, RoundTrips.Of(earlyGet, trace));
        Assert.Equal(2, RoundTrips.Of(earlyPost, trace));

        // Each request ran once: none of the early data was sent again.
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        Assert.Equal((2, 2), (ledger.Visits, ledger.Transfers.Count));
    }
}
