using System.Net;
using System.Net.Sockets;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

internal sealed class FastOpenConnectionListener : IConnectionListener
{
    private readonly FastOpenTransportOptions _options;
    private readonly ILogger _logger;
    private readonly SocketConnectionContextFactory _factory;
    private readonly Action<FastOpenConnectionListener>? _disposed;
    private Socket? _listenSocket;

    // disposed: told when the listener is disposed, so the transport stops rotating its keys.
    public FastOpenConnectionListener(
        IPEndPoint endPoint,
        FastOpenTransportOptions options,
        ILoggerFactory loggerFactory,
        Action<FastOpenConnectionListener>? disposed = null)
    {
        EndPoint = endPoint;
        _options = options;
        _disposed = disposed;
        _logger = loggerFactory.CreateLogger("KestrelTfo.Transport");

        // Kestrel's own connection type, pipes and memory pool: once accepted, a connection costs what it
        // costs under Kestrel's socket transport.
        _factory = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions
            {
                IOQueueCount = options.IOQueueCount,
                WaitForDataBeforeAllocatingBuffer = options.WaitForDataBeforeAllocatingBuffer,
                MaxReadBufferSize = options.MaxReadBufferSize,
                MaxWriteBufferSize = options.MaxWriteBufferSize,
                UnsafePreferInlineScheduling = options.UnsafePreferInlineScheduling,
            },
            loggerFactory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
    }

    public EndPoint EndPoint { get; private set; }

    /// <summary>The OS accepted <c>TCP_FASTOPEN</c> on the listening socket.</summary>
    public bool FastOpenEnabled { get; private set; }

    /// <summary>Why <see cref="FastOpenEnabled"/> is false, when the OS refused it.</summary>
    public string? FastOpenError { get; private set; }

    internal Socket? ListenSocket => _listenSocket;

    /// <param name="tryFastOpen">False where the transport does not support TCP Fast Open on this OS.</param>
    /// <param name="cookieKeys">The listener's own cookie keys (<c>TCP_FASTOPEN_KEY</c>), or null for the kernel's.</param>
    internal void Bind(bool tryFastOpen, byte[]? cookieKeys = null)
    {
        if (_listenSocket != null)
        {
            throw new InvalidOperationException("The listener is already bound.");
        }

        var endPoint = (IPEndPoint)EndPoint;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            try
            {
                socket.Bind(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new AddressInUseException(e.Message, e);
            }

            // Set even when the kernel's server bit is off: the listener then starts using TCP Fast Open
            // as soon as an administrator fixes the sysctl, without a restart.
            if (tryFastOpen && !FastOpenSocket.EnableAfterListen)
            {
                TryEnableFastOpen(socket, endPoint);
            }

            if (FastOpenEnabled && cookieKeys is not null)
            {
                TrySetCookieKeys(socket, endPoint, cookieKeys);
            }

            socket.Listen(_options.Backlog);

            if (tryFastOpen && FastOpenSocket.EnableAfterListen)
            {
                TryEnableFastOpen(socket, endPoint);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        EndPoint = socket.LocalEndPoint!;
        _listenSocket = socket;
        FastOpenLog.ListenerBound(_logger, EndPoint, FastOpenEnabled ? "on" : "off", _options.QueueLength);
    }

    private void TryEnableFastOpen(Socket socket, IPEndPoint endPoint)
    {
        try
        {
            FastOpenSocket.EnableOnListener(socket, _options.QueueLength);
            FastOpenEnabled = true;
        }
        catch (SocketException e)
        {
            FastOpenError = $"{e.SocketErrorCode}: {e.Message}";
            FastOpenLog.ListenerFastOpenFailed(_logger, endPoint, e.SocketErrorCode, e.Message);
        }
    }

    /// <summary>Replaces the listener's cookie keys; cookies made with the old ones fail unless they stay as backup.</summary>
    internal void SetCookieKeys(byte[] cookieKeys)
    {
        if (_listenSocket is { } socket && FastOpenEnabled)
        {
            TrySetCookieKeys(socket, EndPoint, cookieKeys);
        }
    }

    private void TrySetCookieKeys(Socket socket, EndPoint endPoint, byte[] cookieKeys)
    {
        try
        {
            FastOpenSocket.SetCookieKeys(socket, cookieKeys);
        }
        catch (SocketException e)
        {
            FastOpenLog.CookieKeysFailed(_logger, endPoint, e.SocketErrorCode, e.Message);
        }
        catch (ObjectDisposedException)
        {
            // Unbound while the keys rotated: nothing left to key.
        }
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var listenSocket = _listenSocket ?? throw new InvalidOperationException("The listener is not bound.");
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listenSocket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // UnbindAsync or DisposeAsync closed the listening socket: no more connections.
                return null;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException e)
            {
                // Reset while it waited in the backlog; the next connection is unaffected.
                FastOpenLog.ConnectionReset(_logger, EndPoint, e.SocketErrorCode);
                continue;
            }

            FastOpenFeature feature;
            try
            {
                socket.NoDelay = _options.NoDelay;
                feature = Inspect(socket);
            }
            catch (SocketException e)
            {
                // The peer reset between accept and inspection.
                FastOpenLog.ConnectionReset(_logger, EndPoint, e.SocketErrorCode);
                socket.Dispose();
                continue;
            }

            var connection = _factory.Create(socket);
            connection.Features.Set<IFastOpenFeature>(feature);
            return connection;
        }
    }

    private FastOpenFeature Inspect(Socket socket)
    {
        if (!FastOpenEnabled || !FastOpenSocket.CanInspectConnections || !FastOpenSocket.ReceivedSynData(socket))
        {
            return FastOpenFeature.NotFastOpen;
        }

        return new FastOpenFeature(isFastOpen: true, earlyDataLength: socket.Available);
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _listenSocket?.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _disposed?.Invoke(this);
        _listenSocket?.Dispose();
        _factory.Dispose();
        return default;
    }
}
