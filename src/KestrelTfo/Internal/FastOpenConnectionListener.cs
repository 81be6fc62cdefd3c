using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.EarlyData;
using KestrelTfo.Metrics;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

internal sealed class FastOpenConnectionListener : IConnectionListener
{
    // Enough of the early data to classify it: record and handshake headers, or a request line's method, and the
    // ClientHello's random, which makes a debounce hash of these bytes unique per real ClientHello.
    private const int ClassifiedBytes = 256;

    private static readonly TimeSpan FirstHandshakePoll = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan LongestHandshakePoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly FastOpenTransportOptions _options;
    private readonly ILogger _logger;
    private readonly SocketConnectionContextFactory _factory;
    private readonly EarlyDataPolicy _policy;
    private readonly ClientHelloDebouncer? _debouncer;
    private readonly FastOpenMeter? _meter;
    private readonly Action<FastOpenConnectionListener>? _disposed;
    private Socket? _listenSocket;

    // debouncer: shared by the transport's listeners, or null when debouncing is off.
    // disposed: told when the listener is disposed, so the transport stops rotating its keys.
    public FastOpenConnectionListener(
        IPEndPoint endPoint,
        FastOpenTransportOptions options,
        ILoggerFactory loggerFactory,
        ClientHelloDebouncer? debouncer = null,
        FastOpenMeter? meter = null,
        Action<FastOpenConnectionListener>? disposed = null)
    {
        _meter = meter;
        Tags = new ListenerTags(endPoint);
        EndPoint = endPoint;
        _options = options;
        _policy = options.EarlyDataPolicyFor(endPoint.Port);
        _debouncer = debouncer;
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

    /// <summary>The listener's metric tags, for the address and port it is bound to.</summary>
    internal ListenerTags Tags { get; private set; }

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
        Tags = new ListenerTags((IPEndPoint)EndPoint);
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

    /// <summary>
    /// Replaces the listener's cookie keys; cookies made with the old ones fail unless they stay as backup.
    /// Returns whether the kernel took at least the primary key.
    /// </summary>
    internal bool SetCookieKeys(byte[] cookieKeys) =>
        _listenSocket is { } socket && FastOpenEnabled && TrySetCookieKeys(socket, EndPoint, cookieKeys);

    private bool TrySetCookieKeys(Socket socket, EndPoint endPoint, byte[] cookieKeys)
    {
        try
        {
            try
            {
                FastOpenSocket.SetCookieKeys(socket, cookieKeys);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.InvalidArgument && cookieKeys.Length > FastOpenCookieKey.Length)
            {
                // Before Linux 5.3 a listener takes one key only: keep the primary, so the fleet still shares it.
                FastOpenSocket.SetCookieKeys(socket, cookieKeys.AsSpan(0, FastOpenCookieKey.Length));
                FastOpenLog.BackupCookieKeyUnsupported(_logger, endPoint);
            }

            return true;
        }
        catch (SocketException e)
        {
            FastOpenLog.CookieKeysFailed(_logger, endPoint, e.SocketErrorCode, e.Message);
            return false;
        }
        catch (ObjectDisposedException)
        {
            // Unbound while the keys rotated: nothing left to key.
            return false;
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
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // Reset while it waited in the backlog; the next connection is unaffected.
                FastOpenLog.ConnectionReset(_logger, EndPoint, e.SocketErrorCode);
                continue;
            }
            catch (SocketException e)
            {
                // Out of file descriptors or buffers, say: retrying at once would spin, so wait a little.
                FastOpenLog.AcceptFailed(_logger, EndPoint, e.SocketErrorCode, e.Message, AcceptRetryDelay);
                await Task.Delay(AcceptRetryDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            ConnectionContext? connection;
            try
            {
                socket.NoDelay = _options.NoDelay;
                connection = Admit(socket);
            }
            catch (SocketException e)
            {
                // The peer reset between accept and inspection.
                FastOpenLog.ConnectionReset(_logger, EndPoint, e.SocketErrorCode);
                socket.Dispose();
                continue;
            }

            if (connection is not null)
            {
                return connection;
            }
        }
    }

    /// <summary>
    /// Looks at an accepted socket before Kestrel does and decides: hand it over, with what its feature says, or
    /// close it (rejected early data, a duplicate ClientHello) and return null.
    /// </summary>
    private ConnectionContext? Admit(Socket socket)
    {
        if (!FastOpenEnabled || !FastOpenSocket.CanInspectConnections)
        {
            _meter?.ConnectionAccepted(Tags, fastOpen: false);
            return Create(socket, FastOpenFeature.NotFastOpen);
        }

        var info = FastOpenSocket.ReadInfo(socket);
        _meter?.ConnectionAccepted(Tags, info.ReceivedSynData);
        if (!info.ReceivedSynData)
        {
            return Create(socket, FastOpenFeature.NotFastOpen);
        }

        // TCPI_OPT_SYN_DATA means the SYN's data is queued, yet the accept loop must never block on a peek: the poll
        // makes sure. Where the kernel does not report the byte count (before 4.1), what the peek saw is the least
        // there is. Data that cannot be seen is not assumed safe.
        Span<byte> head = stackalloc byte[ClassifiedBytes];
        head = head[..(socket.Poll(0, SelectMode.SelectRead) ? socket.Receive(head, SocketFlags.Peek) : 0)];
        var length = Math.Max(info.BytesReceived, head.Length);
        var early = head.IsEmpty ? EarlyDataClassification.Unknown : EarlyDataClassifier.Classify(head);
        _meter?.EarlyDataReceived(Tags, early.Kind, length);

        if (early.IsReplaySafe)
        {
            if (_debouncer is not null && early.Kind == EarlyDataKind.TlsClientHello && _debouncer.IsDuplicate(head))
            {
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    FastOpenLog.ClientHelloDebounced(_logger, socket.RemoteEndPoint, _debouncer.Window);
                }

                _meter?.Guarded(Tags, "debounced");
                Abort(socket);
                return null;
            }

            return Create(socket, new FastOpenFeature(true, length, early.Kind, null, EarlyDataAction.None));
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            // Only when logged: the remote address costs a system call and an allocation.
            FastOpenLog.EarlyDataNotReplaySafe(_logger, socket.RemoteEndPoint, length, early.Kind, early.HttpMethod, _policy.ToString());
        }

        switch (_policy)
        {
            case EarlyDataPolicy.Reject:
                _meter?.Guarded(Tags, "rejected");
                Abort(socket);
                return null;

            case EarlyDataPolicy.Defer:
                _meter?.Guarded(Tags, "deferred");
                var deferred = Create(socket, new FastOpenFeature(true, length, early.Kind, early.HttpMethod, EarlyDataAction.Deferred));
                if (!info.HandshakeCompleted)
                {
                    var handshake = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    deferred.Transport = new DeferredDuplexPipe(deferred.Transport, handshake.Task);
                    _ = WaitForHandshakeAsync(socket, deferred, handshake);
                }

                return deferred;

            default:
                _meter?.Guarded(Tags, "flagged");
                return Create(socket, new FastOpenFeature(true, length, early.Kind, early.HttpMethod, EarlyDataAction.Flagged, socket));
        }
    }

    private ConnectionContext Create(Socket socket, FastOpenFeature feature)
    {
        var connection = _factory.Create(socket);
        connection.Features.Set<IFastOpenFeature>(feature);
        return connection;
    }

    /// <summary>Closes with a reset, so the client learns at once that nothing it sent was taken.</summary>
    private static void Abort(Socket socket)
    {
        socket.LingerState = new LingerOption(enable: true, seconds: 0);
        socket.Dispose();
    }

    /// <summary>
    /// Polls the kernel until the deferred connection's handshake completes, then opens its input. The kernel
    /// raises no event for that, so the poll backs off from 1 ms to 50 ms; the waiting is the connection's own
    /// and never holds up the accept loop.
    /// </summary>
    private async Task WaitForHandshakeAsync(Socket socket, ConnectionContext connection, TaskCompletionSource<bool> handshake)
    {
        var remote = connection.RemoteEndPoint;
        var started = Stopwatch.GetTimestamp();
        var delay = FirstHandshakePoll;
        string reason;
        var outcome = "deferral_reset";
        try
        {
            while (true)
            {
                var info = FastOpenSocket.ReadInfo(socket);
                if (info.HandshakeCompleted)
                {
                    handshake.TrySetResult(true);
                    return;
                }

                if (info.State != TcpState.SynReceived)
                {
                    reason = $"it went from SYN_RECV to {info.State}, as a replayed SYN does when the real client resets it";
                    break;
                }

                if (Stopwatch.GetElapsedTime(started) >= _options.EarlyDataDeferTimeout)
                {
                    reason = $"not within {_options.EarlyDataDeferTimeout}";
                    outcome = "deferral_timed_out";
                    break;
                }

                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestHandshakePoll.Ticks));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = "the connection was closed while it waited";
        }

        // Close the input first, so nothing buffered can be read once the connection is aborted.
        handshake.TrySetResult(false);
        _meter?.Guarded(Tags, outcome);
        FastOpenLog.EarlyDataDeferralFailed(_logger, remote, reason);
        connection.Abort(new ConnectionAbortedException($"The TCP Fast Open handshake did not complete: {reason}."));
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
