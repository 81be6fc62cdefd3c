using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// A tiny HTTP server behind a "middlebox" that drops every SYN carrying data: a classic BPF filter on its TFO
/// listening socket. A SYN without data (a cookie request, a plain connect, a retransmitted SYN) gets through, so
/// clients fetch cookies as usual and then find their SYNs with data dropped. It can also drop every SYN from
/// given source ports, retransmissions included, for connections that must never be established. Answers every
/// request with 200 "ok".
/// </summary>
internal sealed class SynDataDroppingServer : IAsyncDisposable
{
    private static readonly byte[] s_response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");

    private readonly Socket _listener;
    private readonly Task _acceptLoop;

    private SynDataDroppingServer(Socket listener)
    {
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public static SynDataDroppingServer Start()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        FastOpenListenSocket.Enable(listener, 16);
        AttachFilter(listener, droppedSourcePort: 0);
        listener.Listen();
        return new SynDataDroppingServer(listener);
    }

    /// <summary>From now on drops every SYN from <paramref name="sourcePort"/> too (one port at a time).</summary>
    public void DropSynsFrom(int sourcePort) => AttachFilter(_listener, sourcePort);

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _acceptLoop;
    }

    private async Task AcceptLoopAsync()
    {
        var connections = new List<Task>();
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                break;
            }

            connections.Add(ServeAsync(connection));
        }

        await Task.WhenAll(connections);
    }

    private static async Task ServeAsync(Socket connection)
    {
        using var _ = connection;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            while (!Encoding.ASCII.GetString([.. received]).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await connection.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return;
                }

                received.AddRange(buffer.AsSpan(0, read));
            }

            await connection.SendAsync(s_response, SocketFlags.None, timeout.Token);
            connection.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // A client that gave up (the losing side of a race) is no failure of the server's.
        }
    }

    /// <summary>
    /// Attaches (SO_ATTACH_FILTER, replacing any earlier one) a classic BPF program that sees each TCP segment from its
    /// header on and drops a SYN from <paramref name="droppedSourcePort"/> or whose length exceeds its header length.
    /// </summary>
    private static void AttachFilter(Socket socket, int droppedSourcePort)
    {
        (ushort Code, byte Jt, byte Jf, uint K)[] program =
        [
            (SocketFilter.LoadByteAbsolute, 0, 0, TcpHeader.FlagsOffset),
            (SocketFilter.JumpIfAnySet, 0, 9, TcpHeader.Syn),                  // not a SYN: accept
            (SocketFilter.LoadHalfAbsolute, 0, 0, 0),                          // source port
            (SocketFilter.JumpIfEqual, 6, 0, (uint)droppedSourcePort),          // drop
            (SocketFilter.LoadByteAbsolute, 0, 0, TcpHeader.DataOffsetOffset),  // data offset, high nibble
            (SocketFilter.ShiftRightConstant, 0, 0, 4),
            (SocketFilter.ShiftLeftConstant, 0, 0, 2),                         // header length in bytes
            (SocketFilter.CopyAToX, 0, 0, 0),
            (SocketFilter.LoadLength, 0, 0, 0),                                // header + payload
            (SocketFilter.JumpIfGreaterThanX, 0, 1, 0),                        // payload: drop, else accept
            (SocketFilter.ReturnConstant, 0, 0, 0),                            // drop
            (SocketFilter.ReturnConstant, 0, 0, uint.MaxValue),                // accept
        ];

        SocketFilter.Attach(socket, SocketFilter.Encode(program));
    }
}
