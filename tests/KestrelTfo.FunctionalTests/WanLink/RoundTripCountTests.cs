using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Counts round trips over an emulated 200 ms link: a request carried in the SYN is answered after one round trip,
/// a request that waits for the handshake after two. The 1.5 RTT boundary sits 100 ms from both outcomes, far more
/// than a busy machine's noise.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class RoundTripCountTests
{
    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_boundary = s_roundTrip * 1.5;

    [Fact(Timeout = Limits.LongTest)]
    public async Task TFO_request_is_answered_in_one_round_trip_and_a_plain_one_in_two()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions().WithRoundTripTime(s_roundTrip));
        await using var app = new KestrelAppFactory<Program>(listen: options => options.Listen(link.ServerAddress, 0));
        var server = app.EndPoint;
        var cancellation = TestContext.Current.CancellationToken;

        var cookie = await RawHttp.GetAsync(server, "/tfo", fastOpen: true, cancellation, () => link.CreateClientSocket());
        var fastOpen = await RawHttp.GetAsync(server, "/tfo", fastOpen: true, cancellation, () => link.CreateClientSocket());
        var plain = await RawHttp.GetAsync(server, "/tfo", fastOpen: false, cancellation, () => link.CreateClientSocket());

        Assert.False(cookie.Report().IsFastOpen);
        Assert.True(fastOpen.Report().IsFastOpen);
        Assert.Equal(RawHttp.Request("/tfo").Length, fastOpen.Report().EarlyDataLength);
        Assert.False(plain.Report().IsFastOpen);
        Assert.True(cookie.TimeToFirstByte > s_boundary, $"cookie request: {cookie.TimeToFirstByte.TotalMilliseconds} ms");
        Assert.True(fastOpen.TimeToFirstByte < s_boundary, $"TFO request: {fastOpen.TimeToFirstByte.TotalMilliseconds} ms");
        Assert.True(fastOpen.TimeToFirstByte >= s_roundTrip, $"TFO request: {fastOpen.TimeToFirstByte.TotalMilliseconds} ms");
        Assert.True(plain.TimeToFirstByte > s_boundary, $"plain request: {plain.TimeToFirstByte.TotalMilliseconds} ms");
    }
}
