using System.Net;
using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.Testing;

/// <summary>
/// TCP Fast Open with plain sockets, through the product's socket options: a listener, and a client whose first write
/// rides in its SYN once this machine holds a cookie for the server (the first connection to an address fetches one).
/// </summary>
internal static class RawFastOpen
{
    /// <summary>A listening socket with TFO on, bound to port 0 of <paramref name="address"/>.</summary>
    public static Socket Listen(IPAddress address, int backlog = 16)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, 0));
            FastOpenListenSocket.Enable(listener, 16);
            listener.Listen(backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes client sockets bound to <paramref name="source"/>. The kernel caches a cookie per pair of client and server
    /// addresses, so a client address of its own holds exactly the cookies its own connections fetched.
    /// </summary>
    public static Func<Socket> From(IPAddress source) => () =>
    {
        var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        return socket;
    };

    /// <summary>
    /// Connects with <c>TCP_FASTOPEN_CONNECT</c> and writes <paramref name="data"/> first; the caller owns the socket.
    /// </summary>
    /// <param name="server">Where to connect.</param>
    /// <param name="data">The first write: in the SYN when a cookie is cached.</param>
    /// <param name="cancellationToken">Bounds the connect and the write.</param>
    /// <param name="createSocket">Makes the socket (a client on an emulated link, or bound to its own address).</param>
    public static async Task<Socket> ConnectAndSendAsync(
        EndPoint server, ReadOnlyMemory<byte> data, CancellationToken cancellationToken, Func<Socket>? createSocket = null)
    {
        var socket = createSocket?.Invoke() ?? new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            FastOpenConnect.Set(socket, enabled: true);
            await socket.ConnectAsync(server, cancellationToken);
            await socket.SendAsync(data, SocketFlags.None, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One exchange with a plain TFO <paramref name="listener"/>: the client sends <paramref name="data"/>, the server
    /// reads all of it and echoes its last byte, the client reads that. Whether the data came in the SYN, as the server's
    /// <c>TCP_INFO</c> says. The echo completes the client's handshake, which is when the kernel counts an acknowledged SYN's data.
    /// </summary>
    public static async Task<bool> EchoAsync(
        Socket listener, ReadOnlyMemory<byte> data, CancellationToken cancellationToken, Func<Socket>? createSocket = null)
    {
        using var client = await ConnectAndSendAsync(listener.LocalEndPoint!, data, cancellationToken, createSocket);
        using var accepted = await listener.AcceptAsync(cancellationToken);
        var synData = TcpConnectionInfo.Read(accepted).ReceivedSynData;
        var buffer = new byte[data.Length];
        await ReceiveExactlyAsync(accepted, buffer, cancellationToken);
        await accepted.SendAsync(buffer.AsMemory(^1..), SocketFlags.None, cancellationToken);
        await ReceiveExactlyAsync(client, new byte[1], cancellationToken);
        return synData;
    }

    /// <summary>Reads exactly <c>buffer.Length</c> bytes; fails if the peer closes first.</summary>
    public static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken);
            Assert.True(n > 0, $"the peer closed after {read} of {buffer.Length} bytes");
            read += n;
        }
    }
}
