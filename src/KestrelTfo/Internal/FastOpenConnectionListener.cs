using System.Net;
using System.Net.Sockets;
using KestrelTfo.EarlyData;
using KestrelTfo.Metrics;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

/// <summary>
/// One listening socket with TCP Fast Open: it binds, accepts, asks the listener's <see cref="EarlyDataGuard"/> about
/// each accepted socket, and hands the socket to Kestrel's own connection type with what the guard decided.
/// </summary>
internal sealed class FastOpenConnectionListener : IConnectionListener
{
    private static readonly TimeSpan s_acceptRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly FastOpenTransportOptions _options;
    private readonly EarlyDataGuard _guard;
    private readonly PendingHandshakes _pending;
    private readonly ILogger _logger;
    private readonly SocketConnectionContextFactory _factory;
    private readonly FastOpenListenSocketSetup _setup;
    private readonly Action<FastOpenConnectionListener>? _disposed;
    private Socket? _listenSocket;
    private SocketError? _acceptFailing;

    /// <param name="endPoint">Where to listen; port 0 picks a free port.</param>
    /// <param name="options">The transport's options.</param>
    /// <param name="guard">This listener's guard.</param>
    /// <param name="pending">This listener's bounds for connections accepted before their handshake completed.</param>
    /// <param name="kernel">What the kernel supports, for the start-up line.</param>
    /// <param name="loggerFactory">The app's logger factory.</param>
    /// <param name="disposed">Told when the listener is disposed, so the transport stops rotating its keys.</param>
    public FastOpenConnectionListener(
        IPEndPoint endPoint,
        FastOpenTransportOptions options,
        EarlyDataGuard guard,
        PendingHandshakes pending,
        KernelSupport kernel,
        ILoggerFactory loggerFactory,
        Action<FastOpenConnectionListener>? disposed = null)
    {
        EndPoint = endPoint;
        Tags = new ListenerTags(endPoint);
        _options = options;
        _guard = guard;
        _pending = pending;
        _disposed = disposed;
        _logger = loggerFactory.CreateLogger(FastOpenLog.Category);
        _setup = new FastOpenListenSocketSetup(options, guard, kernel, _logger);

        // Kestrel's own connection type, pipes and memory pool: once accepted, a connection costs what it costs under
        // Kestrel's socket transport.
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

    /// <inheritdoc cref="FastOpenListenSocketSetup.FastOpenEnabled"/>
    public bool FastOpenEnabled => _setup.FastOpenEnabled;

    /// <inheritdoc cref="FastOpenListenSocketSetup.FastOpenError"/>
    public string? FastOpenError => _setup.FastOpenError;

    /// <inheritdoc cref="FastOpenListenSocketSetup.AcceptsDataWithoutCookie"/>
    public bool AcceptsDataWithoutCookie => _setup.AcceptsDataWithoutCookie;

    /// <summary>The listener's metric tags, for the address and port it is bound to.</summary>
    internal ListenerTags Tags { get; private set; }

    /// <param name="cookieKeys">The listener's own cookie keys (<c>TCP_FASTOPEN_KEY</c>), or null for the kernel's.</param>
    internal void Bind(byte[]? cookieKeys)
    {
        if (_listenSocket != null)
        {
            throw new InvalidOperationException("The listener is already bound.");
        }

        _listenSocket = _setup.Listen(EndPoint, cookieKeys);
        EndPoint = _listenSocket.LocalEndPoint!;
        Tags = new ListenerTags((IPEndPoint)EndPoint);
    }

    /// <summary>
    /// Replaces the listener's cookie keys; cookies made with the old ones fail unless they stay as backup. Returns
    /// whether the kernel took at least the primary key.
    /// </summary>
    internal bool SetCookieKeys(byte[] cookieKeys) =>
        _listenSocket is { } socket && FastOpenEnabled && _setup.TrySetCookieKeys(socket, EndPoint, cookieKeys);

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
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // Reset while it waited in the backlog; the next connection is unaffected.
                FastOpenLog.ConnectionReset(_logger, EndPoint, e.SocketErrorCode);
                continue;
            }
            catch (SocketException e)
            {
                // Out of file descriptors or buffers, say: retrying at once would spin, so wait a little. Said once
                // until accepting works again or fails another way, not 20 times a second.
                if (_acceptFailing != e.SocketErrorCode)
                {
                    _acceptFailing = e.SocketErrorCode;
                    FastOpenLog.AcceptFailed(_logger, EndPoint, e.SocketErrorCode, e.Message, s_acceptRetryDelay);
                }

                await Task.Delay(s_acceptRetryDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            _acceptFailing = null;

            if (Admit(socket) is { } connection)
            {
                return connection;
            }
        }
    }

    /// <summary>
    /// Hands an accepted socket to Kestrel as the guard decides, or closes it. Whatever goes wrong with one connection
    /// costs that connection only: it is closed, logged, and the accept loop goes on.
    /// </summary>
    private ConnectionContext? Admit(Socket socket)
    {
        ConnectionContext? connection = null;
        UInt128? admitted = null;
        try
        {
            socket.NoDelay = _options.NoDelay;
            var decision = _guard.Decide(socket, Tags);
            if (decision.Feature is not { } feature)
            {
                Reset(socket);
                return null;
            }

            if (decision.HandshakePending)
            {
                if (!_pending.TryAdmit(socket, EndPoint, Tags, out var client))
                {
                    // Beyond its client's share: the reset frees its place in the kernel's queue before the app sees it.
                    Reset(socket);
                    return null;
                }

                admitted = client;
            }

            connection = _factory.Create(socket);
            connection.Features.Set<IFastOpenFeature>(feature);
            if (admitted is { } watched)
            {
                var gated = _pending.Watch(connection, socket, watched, Tags, decision.Defer);
                admitted = null;
                return gated;
            }

            return connection;
        }
        catch (SocketException e) when (connection is null)
        {
            // The peer reset between accept and inspection. A reset, not a FIN: one in SYN_RECV would stay in the kernel's
            // TCP Fast Open queue.
            FastOpenLog.ConnectionReset(_logger, EndPoint, e.SocketErrorCode);
            ResetQuietly(socket);
            return null;
        }
        catch (Exception e)
        {
            FastOpenLog.ConnectionFailed(_logger, EndPoint, e);
            if (connection is null)
            {
                ResetQuietly(socket);
            }
            else
            {
                try
                {
                    socket.LingerState = new LingerOption(enable: true, seconds: 0);
                }
                catch (Exception linger) when (linger is SocketException or ObjectDisposedException)
                {
                    // Closed already.
                }

                // Kestrel's connection has started its I/O already: abort it, and let it end on its own.
                connection.Abort(new ConnectionAbortedException("The TCP Fast Open transport failed to hand the connection over.", e));
                _ = connection.DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }

            return null;
        }
        finally
        {
            if (admitted is { } unwatched)
            {
                _pending.Release(unwatched);
            }
        }
    }

    /// <summary>Closes with a reset, so the client learns at once that nothing it sent was taken.</summary>
    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(enable: true, seconds: 0);
        socket.Dispose();
    }

    private static void ResetQuietly(Socket socket)
    {
        try
        {
            Reset(socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _listenSocket?.Dispose();
        _pending.Stop();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _disposed?.Invoke(this);
        _listenSocket?.Dispose();
        _pending.Stop();
        _factory.Dispose();
        return default;
    }
}
