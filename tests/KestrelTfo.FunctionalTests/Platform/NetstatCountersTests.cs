using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Platform;

[Collection(nameof(KernelCounterTests))]
public sealed class NetstatCountersTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_TFO_connection_moves_the_passive_active_and_cookie_counters()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var listener = RawFastOpen.Listen(Loopback.NextAddress());

        var before = KernelCounters.Read();
        var cookie = await RawFastOpen.EchoAsync(listener, new byte[] { 42 }, Timeout);
        var afterCookie = KernelCounters.Read();
        var synData = await RawFastOpen.EchoAsync(listener, new byte[] { 42 }, Timeout);
        var after = KernelCounters.Read();

        Assert.False(cookie);
        Assert.True(synData);
        Assert.Equal(1, afterCookie[TcpFastOpenCounter.CookieReqd] - before[TcpFastOpenCounter.CookieReqd]);
        Assert.Equal(0, afterCookie[TcpFastOpenCounter.Passive] - before[TcpFastOpenCounter.Passive]);
        Assert.Equal(1, after[TcpFastOpenCounter.Passive] - afterCookie[TcpFastOpenCounter.Passive]);
        Assert.Equal(1, after[TcpFastOpenCounter.Active] - afterCookie[TcpFastOpenCounter.Active]);
        Assert.Equal(0, after[TcpFastOpenCounter.CookieReqd] - afterCookie[TcpFastOpenCounter.CookieReqd]);
    }
}
