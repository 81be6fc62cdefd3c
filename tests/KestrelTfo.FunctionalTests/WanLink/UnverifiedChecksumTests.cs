using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Defer on a receive path whose TCP checksums no network card has verified (a tunnel without offload): the kernel
/// checks a segment over 76 bytes only after the listener's filter has trimmed it, so the trimmed SYN fails the check
/// and is dropped, and the client sends a plain SYN after its retransmission timeout. The request is still served once,
/// but late; <see cref="FastOpenTransportOptions.KernelEarlyDataFilter"/> off keeps such a path at full speed.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class UnverifiedChecksumTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.LongTest)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Defer_serves_a_SYN_with_a_POST_once_with_the_kernel_filter_or_without(bool kernelFilter)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var options = new EmulatedLinkOptions { ChecksumOffload = false, TraceCapacity = 1024 }.WithRoundTripTime(TimeSpan.FromMilliseconds(20));
        using var link = LinkEnvironment.Start(options);
        await using var app = new KestrelAppFactory<Program>(
            settings: new()
            {
                ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer",
                ["Kestrel:FastOpen:KernelEarlyDataFilter"] = kernelFilter ? "true" : "false",
            },
            listen: o => o.Listen(link.ServerAddress, 0));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout, createSocket: () => link.CreateClientSocket());
        link.Trace!.Drain();

        var exchange = await RawHttp.SendAsync(app.EndPoint, RawHttp.Post("/transfer"), Timeout, createSocket: () => link.CreateClientSocket());

        var report = RawResponse.Parse(exchange.Response).Report();
        Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers);

        // The client's SYNs, as the link carried them: the server's kernel answers a SYN it keeps, so a second SYN with
        // the same sequence number is the client's retransmission of one the server dropped.
        var syns = link.Trace!.Drain().Where(s => s.ToServer && s.Syn).Select(s => (s.Sequence, s.PayloadLength)).ToList();
        Assert.Equal(0, link.Trace.Missed);
        var post = RawHttp.Post("/transfer").Length;
        if (kernelFilter)
        {
            // The trimmed SYN was dropped for its checksum; the plain SYN sent after the retransmission timeout made no
            // TCP Fast Open connection.
            Assert.Equal([(syns[0].Sequence, post), (syns[0].Sequence, 0)], syns);
            Assert.False(exchange.SynDataAcknowledged);
            Assert.False(report.IsFastOpen);
        }
        else
        {
            Assert.Equal([(syns[0].Sequence, post)], syns);
            Assert.True(exchange.SynDataAcknowledged);
            Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", EarlyDataAction.Deferred), report);
        }
    }
}
