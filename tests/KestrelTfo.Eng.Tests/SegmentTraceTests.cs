using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.NetEmu;

namespace KestrelTfo.Eng.Tests;

/// <summary>The link's segment trace: what each TCP segment carried and when it left and arrived, over a real link.</summary>
[Collection(nameof(LinkTimingTests))]
public sealed class SegmentTraceTests
{
    private static readonly TimeSpan s_toServer = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan s_toClient = TimeSpan.FromMilliseconds(10);

    [Fact(Timeout = Limits.LongTest)]
    public async Task Trace_records_each_segment_with_its_ports_payload_and_link_time()
    {
        using var link = StartLink(traceCapacity: 64);
        var (clientPort, serverPort) = await ExchangeAsync(link, request: 5, response: 7);

        var drained = link.Trace!.Drain();
        var segments = drained.Where(s => s.ClientPort == clientPort).ToArray();
        Assert.Single(segments, s => s.ToServer && s.Syn && s.PayloadLength == 0 && s.DestinationPort == serverPort);
        Assert.Single(segments, s => !s.ToServer && s.Syn && s.SourcePort == serverPort);
        Assert.Single(segments, s => s.ToServer && !s.Syn && s.PayloadLength == 5);
        Assert.Single(segments, s => !s.ToServer && !s.Syn && s.PayloadLength == 7);
        foreach (var segment in segments)
        {
            // Never faster than the direction's delay. The upper bound only catches a wrong delay or stamp: a loaded
            // machine may release a packet late, by tens of milliseconds at worst, never by more than 100.
            var delay = segment.ToServer ? s_toServer : s_toClient;
            Assert.InRange(Stopwatch.GetElapsedTime(segment.Taken, segment.Delivered), delay, delay + TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(0, link.Trace.Missed);
        // Drained means forgotten: the server's FIN may come after the first drain, but nothing comes twice.
        Assert.Empty(link.Trace.Drain().Intersect(drained));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_full_trace_counts_the_segments_it_could_not_hold()
    {
        using var link = StartLink(traceCapacity: 2);
        // SYN, SYN-ACK, ACK and the request have crossed before the response, which is recorded before the client
        // can read it: five segments at least.
        await ExchangeAsync(link, request: 1, response: 1);

        Assert.Equal(2, link.Trace!.Drain().Length);
        Assert.True(link.Trace.Missed >= 3, $"missed {link.Trace.Missed}");
    }

    [Fact]
    public void A_link_without_a_trace_capacity_has_no_trace_and_a_bad_capacity_is_refused()
    {
        // First, so that where links cannot be built the test skips (or fails under CI) with the reason.
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions());
        Assert.Null(link.Trace);
        Assert.Throws<ArgumentOutOfRangeException>(() => EmulatedLink.Start(new EmulatedLinkOptions { TraceCapacity = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => EmulatedLink.Start(new EmulatedLinkOptions { TraceCapacity = EmulatedLinkOptions.MaxTraceCapacity + 1 }));
    }

    private static EmulatedLink StartLink(int traceCapacity)
    {
        var options = new EmulatedLinkOptions { TraceCapacity = traceCapacity };
        options.ToServer.Delay = s_toServer;
        options.ToClient.Delay = s_toClient;
        return LinkEnvironment.Start(options);
    }

    /// <summary>One connection across the link: the client sends <paramref name="request"/> bytes, the server answers
    /// with <paramref name="response"/> bytes; returns when the client has them all.</summary>
    private static async Task<(int ClientPort, int ServerPort)> ExchangeAsync(EmulatedLink link, int request, int response)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var listener = link.CreateServerSocket();
        listener.Bind(new IPEndPoint(link.ServerAddress, 0));
        listener.Listen();
        var serverPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var serving = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptAsync(timeout.Token);
            var buffer = new byte[request];
            await accepted.ReceiveAsync(buffer, timeout.Token);
            await accepted.SendAsync(new byte[response], timeout.Token);
        });

        using var client = link.CreateClientSocket();
        await client.ConnectAsync(new IPEndPoint(link.ServerAddress, serverPort), timeout.Token);
        await client.SendAsync(new byte[request], timeout.Token);
        var received = 0;
        var reply = new byte[response];
        while (received < response)
        {
            var read = await client.ReceiveAsync(reply.AsMemory(received), timeout.Token);
            Assert.NotEqual(0, read);
            received += read;
        }

        await serving;
        return (((IPEndPoint)client.LocalEndPoint!).Port, serverPort);
    }
}
