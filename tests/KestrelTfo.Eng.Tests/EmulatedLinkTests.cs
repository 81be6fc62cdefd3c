using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.NetEmu;
using KestrelTfo.Platform;

namespace KestrelTfo.Eng.Tests;

/// <summary>The emulated link itself: each fault does what it says, in its own direction only.</summary>
[Collection(nameof(LinkTimingTests))]
public sealed class EmulatedLinkTests
{
    private static readonly TimeSpan s_quiet = TimeSpan.FromMilliseconds(500);

    [Fact]
    public void Each_direction_gets_its_own_delay()
    {
        var options = new EmulatedLinkOptions();
        options.ToServer.Delay = TimeSpan.FromMilliseconds(80);
        options.ToClient.Delay = TimeSpan.FromMilliseconds(20);
        using var link = LinkEnvironment.Start(options);
        using var path = new UdpPath(link, toServer: true);
        var (server, client) = (path.Receiver, path.Sender);
        server.ReceiveTimeout = client.ReceiveTimeout = 5000;

        // Best of three round trips: a loaded machine only ever adds time.
        var (there, back) = (TimeSpan.MaxValue, TimeSpan.MaxValue);
        for (var round = 0; round < 3; round++)
        {
            var sent = Stopwatch.GetTimestamp();
            client.Send([1]);
            var buffer = new byte[16];
            var from = (EndPoint)new IPEndPoint(IPAddress.Any, 0);
            server.ReceiveFrom(buffer, ref from);
            var arrived = Stopwatch.GetElapsedTime(sent);
            server.SendTo([2], from);
            client.Receive(buffer);
            (there, back) = (Min(there, arrived), Min(back, Stopwatch.GetElapsedTime(sent) - arrived));
        }

        // Never faster than configured; the upper bounds are as wide as the delays, so only a wrong delay fails them.
        Assert.InRange(there.TotalMilliseconds, 80, 160);
        Assert.InRange(back.TotalMilliseconds, 20, 80);
    }

    [Fact]
    public void Jitter_spreads_the_delay_around_its_mean()
    {
        var options = new EmulatedLinkOptions { Seed = 3 };
        options.ToServer.Delay = TimeSpan.FromMilliseconds(60);
        options.ToServer.Jitter = TimeSpan.FromMilliseconds(40);
        using var link = LinkEnvironment.Start(options);
        using var path = new UdpPath(link, toServer: true);
        var (receiver, sender) = (path.Receiver, path.Sender);

        for (var i = 0; i < 50; i++)
        {
            sender.Send(BitConverter.GetBytes(Stopwatch.GetTimestamp()));
        }

        var delays = new List<double>();
        var buffer = new byte[16];
        receiver.ReceiveTimeout = 2000;
        while (delays.Count < 50)
        {
            receiver.Receive(buffer);
            delays.Add(Stopwatch.GetElapsedTime(BitConverter.ToInt64(buffer)).TotalMilliseconds);
        }

        // Uniform in [20, 100] ms: 50 draws land below 40 and above 80 with near certainty, and never below 20.
        // (Taken when the test reads each one, a little late, so only the low bound is exact.)
        Assert.True(delays.Min() is >= 20 and < 40, $"shortest {delays.Min()} ms");
        Assert.True(delays.Max() > 80, $"longest {delays.Max()} ms");
    }

    [Fact]
    public void Loss_drops_packets_in_its_direction_only()
    {
        var options = new EmulatedLinkOptions { Seed = 7 };
        options.ToServer.LossRate = 0.5;
        using var link = LinkEnvironment.Start(options);

        var toServer = SendAndCount(link, toServer: true, count: 200);
        var toClient = SendAndCount(link, toServer: false, count: 200);

        // Binomial(200, 0.5): 100 ± 7; the range is more than seven standard deviations wide each way.
        Assert.InRange(toServer, 50, 150);
        Assert.True(link.ToServer.Dropped >= 200 - toServer, link.ToServer.ToString());
        Assert.Equal(200, toClient);
        Assert.Equal(0, link.ToClient.Dropped);
    }

    [Fact]
    public void Duplication_delivers_twice_in_its_direction_only()
    {
        var options = new EmulatedLinkOptions();
        options.ToClient.DuplicateRate = 1;
        using var link = LinkEnvironment.Start(options);

        Assert.Equal(100, SendAndCount(link, toServer: false, count: 50));
        Assert.Equal(50, SendAndCount(link, toServer: true, count: 50));
        Assert.True(link.ToClient.Duplicated >= 50, link.ToClient.ToString());
    }

    [Fact]
    public void Reordering_lets_some_packets_overtake_delayed_ones()
    {
        var options = new EmulatedLinkOptions { Seed = 11 };
        options.ToServer.Delay = TimeSpan.FromMilliseconds(30);
        options.ToServer.ReorderRate = 0.3;
        using var link = LinkEnvironment.Start(options);
        using var path = new UdpPath(link, toServer: true);
        var (receiver, sender) = (path.Receiver, path.Sender);

        for (var i = 0; i < 100; i++)
        {
            sender.Send(BitConverter.GetBytes(i));
        }

        var order = LinkEnvironment.ReceiveUntilQuiet(receiver, s_quiet, 200).Select(packet => BitConverter.ToInt32(packet)).ToList();

        Assert.Equal(Enumerable.Range(0, 100), order.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), order);
        Assert.InRange(link.ToServer.Reordered, 1, 99);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Replay_reinjects_a_TFO_SYN_with_the_same_bytes_and_addresses()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var options = new EmulatedLinkOptions();
        options.ToServer.Delay = options.ToClient.Delay = TimeSpan.FromMilliseconds(5);
        options.ToServer.ReplaySynWithDataAfter = TimeSpan.FromMilliseconds(100);
        using var link = LinkEnvironment.Start(options);

        // Sees every TCP packet that reaches the server side's stack, replays included, before TCP handles it.
        using var capture = link.CreateServerSocket(SocketType.Raw, ProtocolType.Tcp);
        using var listener = link.CreateServerSocket();
        listener.Bind(new IPEndPoint(link.ServerAddress, 0));
        FastOpenListenSocket.Enable(listener, 16);
        listener.Listen();
        var server = (IPEndPoint)listener.LocalEndPoint!;
        var serving = ServeAsync(listener, connections: 2);

        await ConnectAndSendAsync(link, server, "cookie, please");
        await ConnectAndSendAsync(link, server, "early data");
        await serving;

        var synsWithData = new List<byte[]>();
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3;
        capture.ReceiveTimeout = 200;
        var buffer = new byte[2048];
        while (synsWithData.Count < 2 && Stopwatch.GetTimestamp() < deadline)
        {
            try
            {
                var length = capture.Receive(buffer);
                var packet = buffer[..length];
                if (new IPAddress(packet.AsSpan(12, 4)).Equals(link.ClientAddress) && IsSynWithData(packet))
                {
                    synsWithData.Add(packet);
                }
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }

        Assert.Equal(2, synsWithData.Count);
        Assert.Equal(synsWithData[0], synsWithData[1]);
        Assert.Equal(link.ServerAddress, new IPAddress(synsWithData[1].AsSpan(16, 4)));
        Assert.Equal(1, link.ToServer.Replayed);
        Assert.Equal(0, link.ToClient.Replayed);
    }

    [Fact]
    public void The_caller_can_be_the_client_side_with_the_server_in_a_namespace_of_its_own()
    {
        var options = new EmulatedLinkOptions { CallerSide = LinkSide.Client }.WithRoundTripTime(TimeSpan.FromMilliseconds(40));
        using var link = LinkEnvironment.Start(options);
        using var listener = link.CreateServerSocket();
        listener.Bind(new IPEndPoint(link.ServerAddress, 0));
        listener.Listen();

        // The caller's own socket, no namespace hop: the client side is this process's namespace. Best of three.
        var handshake = Enumerable.Range(0, 3).Min(_ => TimeConnect(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), listener));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using var accepted = listener.Accept();

        Assert.InRange(handshake, 40, 120);
        Assert.Equal(link.ClientAddress, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
        Assert.Equal($"/proc/{Environment.ProcessId}/ns/net", link.ClientNamespace);
        Assert.NotNull(link.ServerNamespace);
        // The server's address lives in the link's namespace only.
        using var here = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = Assert.Throws<SocketException>(() => here.Bind(new IPEndPoint(link.ServerAddress, 0)));
        Assert.Equal(SocketError.AddressNotAvailable, refused.SocketErrorCode);
    }

    [Fact]
    public void Two_links_chain_through_the_caller_and_each_keeps_its_own_delay()
    {
        // client --(front, 20 ms)-- this process --(back, 60 ms)-- backend
        using var front = LinkEnvironment.Start(new EmulatedLinkOptions().WithRoundTripTime(TimeSpan.FromMilliseconds(20)));
        using var back = LinkEnvironment.Start(new EmulatedLinkOptions { CallerSide = LinkSide.Client }.WithRoundTripTime(TimeSpan.FromMilliseconds(60)));
        using var middle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        middle.Bind(new IPEndPoint(front.ServerAddress, 0));
        middle.Listen();
        using var backend = back.CreateServerSocket();
        backend.Bind(new IPEndPoint(back.ServerAddress, 0));
        backend.Listen();

        // Best of three: a loaded machine only ever adds time.
        var frontHandshake = Enumerable.Range(0, 3).Min(_ => TimeConnect(front.CreateClientSocket(), middle));
        var backHandshake = Enumerable.Range(0, 3).Min(_ => TimeConnect(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), backend));

        Assert.InRange(frontHandshake, 20, 55);
        Assert.InRange(backHandshake, 60, 95);
        // The client's namespace has a route to the middle only: the backend is reached through the caller, not around it.
        using var around = front.CreateClientSocket();
        var unreachable = Assert.Throws<SocketException>(() => around.Connect(backend.LocalEndPoint!));
        Assert.Equal(SocketError.NetworkUnreachable, unreachable.SocketErrorCode);
    }

    [Fact]
    public void A_named_link_cannot_put_the_caller_on_the_client_side()
    {
        var options = new EmulatedLinkOptions { CallerSide = LinkSide.Client, NamespaceName = "refused" };

        Assert.Throws<ArgumentException>(() => LinkEnvironment.Start(options));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static double TimeConnect(Socket socket, Socket listener)
    {
        using (socket)
        {
            var started = Stopwatch.GetTimestamp();
            socket.Connect(listener.LocalEndPoint!);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            listener.Accept().Dispose();
            return elapsed;
        }
    }

    private static int SendAndCount(EmulatedLink link, bool toServer, int count)
    {
        using var path = new UdpPath(link, toServer);
        var (receiver, sender) = (path.Receiver, path.Sender);
        for (var i = 0; i < count; i++)
        {
            sender.Send(BitConverter.GetBytes(i));
        }

        return LinkEnvironment.ReceiveUntilQuiet(receiver, s_quiet, count * 3).Count;
    }

    private static bool IsSynWithData(byte[] packet)
    {
        var ipHeader = (packet[0] & 0x0f) * 4;
        var total = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));
        var tcpHeader = (packet[ipHeader + 12] >> 4) * 4;
        var flags = packet[ipHeader + 13];
        return (flags & 0x12) == 0x02 && total > ipHeader + tcpHeader;
    }

    private static async Task ServeAsync(Socket listener, int connections)
    {
        for (var i = 0; i < connections; i++)
        {
            using var accepted = await listener.AcceptAsync(TestContext.Current.CancellationToken);
            var buffer = new byte[64];
            await accepted.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            await accepted.SendAsync("ok"u8.ToArray(), TestContext.Current.CancellationToken);
        }
    }

    private static async Task ConnectAndSendAsync(EmulatedLink link, IPEndPoint server, string data)
    {
        using var socket = await RawFastOpen.ConnectAndSendAsync(
            server, System.Text.Encoding.ASCII.GetBytes(data), TestContext.Current.CancellationToken, () => link.CreateClientSocket());
        var buffer = new byte[16];
        Assert.Equal(2, await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken));
    }
}
