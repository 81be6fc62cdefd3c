using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Counts round trips over an emulated link, from the segments it carried (not from a clock, which a busy machine
/// stretches): a request carried in the SYN is answered after one round trip, a request that waits for the handshake
/// after two.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class RoundTripCountTests
{
    [Fact(Timeout = Limits.LongTest)]
    public async Task TFO_request_is_answered_in_one_round_trip_and_a_plain_one_in_two()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // Long enough that a busy machine's pauses stay well under the client's retransmission timeouts (twice the round
        // trip, at least): a retransmitted segment makes the walk through the trace impossible.
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions { TraceCapacity = 1024 }.WithRoundTripTime(TimeSpan.FromMilliseconds(200)));
        await using var app = new KestrelAppFactory<Program>(listen: options => options.Listen(link.ServerAddress, 0));
        var server = app.EndPoint;
        var cancellation = TestContext.Current.CancellationToken;

        var cookie = await RawHttp.SendAsync(server, RawHttp.Request("/tfo"), cancellation, fastOpen: true, () => link.CreateClientSocket());
        var fastOpen = await RawHttp.SendAsync(server, RawHttp.Request("/tfo"), cancellation, fastOpen: true, () => link.CreateClientSocket());
        var plain = await RawHttp.SendAsync(server, RawHttp.Request("/tfo"), cancellation, fastOpen: false, () => link.CreateClientSocket());
        var trace = link.Trace!.Drain();

        Assert.Equal(0, link.Trace.Missed);
        Assert.False(Report(cookie).IsFastOpen);
        Assert.True(Report(fastOpen).IsFastOpen);
        Assert.Equal(RawHttp.Request("/tfo").Length, Report(fastOpen).EarlyDataLength);
        Assert.False(Report(plain).IsFastOpen);
        Assert.Equal(2, RoundTrips.Of(cookie.Timing, trace));
        Assert.Equal(1, RoundTrips.Of(fastOpen.Timing, trace));
        Assert.Equal(2, RoundTrips.Of(plain.Timing, trace));
    }

    private static FastOpenReport Report(RawExchange exchange) => RawResponse.Parse(exchange.Response).Report();
}
