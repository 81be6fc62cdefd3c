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
        var listener = RawFastOpen.Listen(Loopback.NextAddress(), backlog: 0);
        try
        {
            var queued = await RawFastOpen.ConnectAndSendAsync(listener.LocalEndPoint!, "x"u8.ToArray(), cancellationToken);
            return new BlackHole(listener, queued);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _queued.Dispose();
        _listener.Dispose();
    }
}
