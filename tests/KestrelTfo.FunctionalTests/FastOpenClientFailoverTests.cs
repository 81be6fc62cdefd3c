using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests;

/// <summary>Which failures of the TFO client's connect move on to a host's next address, over real sockets.</summary>
public sealed class FastOpenClientFailoverTests
{

    // Far more than the small socket buffers below hold, so the send is still under way when the server resets.
    private const int FirstWriteLength = 1 << 20;
    private const int BufferSize = 4096;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("POST")] // connects first, then sends
    [InlineData("GET")] // TCP_FASTOPEN_CONNECT: the sends are what start the handshake
    public async Task A_send_that_fails_once_connected_is_an_IOException_and_not_repeated_at_the_next_address(string method)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var resetting = Listen(new IPEndPoint(Loopback.NextAddress(), 0));
        var port = ((IPEndPoint)resetting.LocalEndPoint!).Port;
        using var next = Listen(new IPEndPoint(Loopback.NextAddress(), port));
        using var log = new ClientLog();
        var options = new FastOpenConnectOptions
        {
            CreateSocket = endPoint => new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = BufferSize },
        };
        var dialer = new FastOpenDialer(options, log.Factory.CreateLogger(FastOpenClientLog.Category), FastOpenClientSocket.PlatformMethod);

        var addresses = new[] { ((IPEndPoint)resetting.LocalEndPoint!).Address, ((IPEndPoint)next.LocalEndPoint!).Address };
        var connect = dialer.ConnectAsync(addresses, port, Request(method), Timeout);
        using (var accepted = await resetting.AcceptAsync(Timeout))
        {
            // The first bytes arrived, so the connection is established and the rest of the write is under way:
            // closing with unread data and no linger resets it.
            Assert.Equal(1, await accepted.ReceiveAsync(new byte[1], SocketFlags.None, Timeout));
            accepted.LingerState = new LingerOption(true, 0);
        }

        // Failing over would have sent the whole request to the next address, which accepts nothing and reads
        // nothing, so that send would never finish: the bound turns it into a failure.
        var error = await Assert.ThrowsAsync<IOException>(() => connect.WaitAsync(TimeSpan.FromSeconds(20), Timeout));
        Assert.IsType<SocketException>(error.InnerException);
        Assert.False(next.Poll(0, SelectMode.SelectRead), "a connection reached the next address");
        Assert.Empty(log.WithEvent(nameof(FastOpenClientLog.ConnectAttemptFailed)));
    }

    private static Socket Listen(IPEndPoint endPoint)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = BufferSize };
        listener.Bind(endPoint);
        listener.Listen();
        return listener;
    }

    private static byte[] Request(string method)
    {
        var head = Encoding.ASCII.GetBytes($"{method} / HTTP/1.1\r\nHost: test\r\nX-Padding: ");
        var request = new byte[FirstWriteLength];
        request.AsSpan().Fill((byte)'a');
        head.CopyTo(request, 0);
        "\r\n\r\n"u8.CopyTo(request.AsSpan(FirstWriteLength - 4));
        return request;
    }
}
