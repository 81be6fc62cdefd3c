using System.Net;
using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// A loopback endpoint that never answers a SYN, and for which this machine holds a TFO cookie: a TFO listener
/// with a backlog of 0 whose accept queue one connection (the one that fetched the cookie) has filled. The kernel
/// drops every further SYN, with or without data, so connects hang until cancelled or timed out.
/// </summary>
internal sealed class BlackHole : IDisposable
{
    private readonly Socket _listener;
    private readonly Socket _queued;

    private BlackHole(Socket listener, Socket queued)
    {
        _listener = listener;
        _queued = queued;
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public static async Task<BlackHole> StartAsync(CancellationToken cancellationToken)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        FastOpenListenSocket.Enable(listener, 16);
        listener.Listen(0);

        var queued = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        FastOpenConnect.Set(queued, enabled: true);
        await queued.ConnectAsync(listener.LocalEndPoint!, cancellationToken);
        await queued.SendAsync("x"u8.ToArray(), SocketFlags.None, cancellationToken);
        return new BlackHole(listener, queued);
    }

    public void Dispose()
    {
        _queued.Dispose();
        _listener.Dispose();
    }
}
