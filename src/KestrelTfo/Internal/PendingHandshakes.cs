using System.Net;
using System.Net.Sockets;
using KestrelTfo.EarlyData;
using KestrelTfo.Metrics;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

/// <summary>
/// Bounds one listener's TCP Fast Open connections that have not completed their handshake, each of which holds a place
/// in the listener's kernel queue (<see cref="FastOpenTransportOptions.QueueLength"/>): a client gets at most its share of
/// places, a connection at most <see cref="FastOpenTransportOptions.FastOpenHandshakeTimeout"/>, and a full queue is said.
/// </summary>
/// <remarks>
/// The kernel's queue protects the server's memory (RFC 7413, section 5.1), not the other clients: one client that sends
/// SYNs with data and never acknowledges the SYN-ACK would fill it for the minute or two the kernel resends the SYN-ACK,
/// and every other client would lose TCP Fast Open meanwhile. A connection aborted here is reset, which frees its place
/// at once.
/// </remarks>
internal sealed class PendingHandshakes
{
    private static readonly TimeSpan s_queueFullWarningInterval = TimeSpan.FromMinutes(1);

    private readonly HandshakeShares _shares;
    private readonly int _queueLength;
    private readonly int? _perClientLimit;
    private readonly TimeSpan _timeout;
    private readonly EarlyDataGuard _guard;
    private readonly HandshakeWatcher _watcher;
    private readonly FastOpenMeter _meter;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queueFullWarned = long.MinValue;

    public PendingHandshakes(FastOpenTransportOptions options, EarlyDataGuard guard, HandshakeWatcher watcher, FastOpenMeter meter, ILogger logger, TimeProvider time)
    {
        // The kernel caps a listener's TCP Fast Open queue at net.core.somaxconn (fastopen_queue_tune).
        _queueLength = Math.Min(options.QueueLength, SoMaxConn());
        _perClientLimit = options.MaxPendingHandshakesPerClient;
        _timeout = options.FastOpenHandshakeTimeout;
        _shares = new HandshakeShares(_perClientLimit, time);
        _guard = guard;
        _watcher = watcher;
        _meter = meter;
        _logger = logger;
        _time = time;
    }

    /// <summary>
    /// Takes a socket accepted in SYN_RECV into its client's share, or says to reset it: its client holds its share
    /// already. Says when the queue is full.
    /// </summary>
    public bool TryAdmit(Socket socket, EndPoint listener, ListenerTags tags, out UInt128 client)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        client = remote is null ? default : HandshakeShares.ClientOf(remote.Address);
        if (!_shares.TryAdd(client, out var total))
        {
            _meter.HandshakeAborted(tags, HandshakeAbortReason.ClientLimit);
            FastOpenLog.ClientLimitReached(_logger, remote, _perClientLimit!.Value, listener);
            return false;
        }

        if (total >= _queueLength)
        {
            try
            {
                WarnQueueFull(listener, total);
            }
            catch
            {
                // The caller never learns it has the place, so it cannot give it back.
                _shares.Remove(client);
                throw;
            }
        }

        return true;
    }

    /// <summary>Gives back the place <see cref="TryAdmit"/> took, for a connection that never reached <see cref="Watch"/>.</summary>
    public void Release(UInt128 client) => _shares.Remove(client);

    /// <summary>
    /// Watches an admitted connection until its handshake completes; aborts it with a reset if it does not within the
    /// bound. Until then any close is a reset (a graceful close in SYN_RECV would keep the place in the kernel's queue),
    /// a graceful one waits for the handshake, and a deferred connection's input stays shut.
    /// </summary>
    /// <returns>The connection to hand Kestrel.</returns>
    public ConnectionContext Watch(ConnectionContext connection, Socket socket, UInt128 client, ListenerTags tags, bool defer)
    {
        var handshake = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.LingerState = new LingerOption(enable: true, seconds: 0);
        var gated = new HandshakeGatedConnection(connection, handshake.Task, holdInput: defer, _stopping.Task);
        connection.Features.Set<IHandshakeCompletionFeature>(new TcpHandshakeCompletion(socket, handshake.Task));
        var remote = connection.RemoteEndPoint;
        if (defer)
        {
            _guard.Hold(tags);
        }

        _meter.HandshakePending(tags, +1);
        _watcher.Watch(socket, handshake, (failure, reason) =>
        {
            // The place and the connection first, the counting and logging after: a throwing listener or logger must
            // not keep a place for good, nor keep a stalled connection from its reset.
            try
            {
                if (failure is not { } how)
                {
                    // Before the gate opens, so that a close the application made meanwhile is graceful.
                    RestoreGracefulClose(socket);
                    _shares.Remove(client);
                }
                else
                {
                    if (how == HandshakeWatcher.Failure.Reset)
                    {
                        _shares.RemoveAfterResetHold(client);
                    }
                    else
                    {
                        _shares.Remove(client);
                    }

                    connection.Abort(new ConnectionAbortedException($"The TCP Fast Open handshake did not complete: {reason}."));
                }
            }
            finally
            {
                _meter.HandshakePending(tags, -1);
                if (failure == HandshakeWatcher.Failure.TimedOut)
                {
                    _meter.HandshakeAborted(tags, HandshakeAbortReason.TimedOut);
                    FastOpenLog.HandshakeTimedOut(_logger, remote, _timeout);
                }
                else if (failure is not null && !defer)
                {
                    // A held connection's guard says so itself.
                    FastOpenLog.HandshakeNotCompleted(_logger, remote, reason!);
                }

                if (defer)
                {
                    _guard.HoldEnded(remote, tags, failure, reason);
                }
            }
        });

        return gated;
    }

    /// <summary>
    /// The listener stops: Kestrel's shutdown no longer waits for these handshakes to close their connections, which then
    /// close with a reset. The watcher still ends each, or the transport's disposal does.
    /// </summary>
    public void Stop() => _stopping.TrySetResult();

    private void WarnQueueFull(EndPoint listener, int pending)
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _queueFullWarned);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < s_queueFullWarningInterval)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _queueFullWarned, now, last) == last)
        {
            FastOpenLog.QueueFull(_logger, listener, pending, _queueLength, _perClientLimit);
        }
    }

    private static int SoMaxConn() =>
        LinuxFastOpenSysctl.TryRead("/proc/sys/net/core/somaxconn", out var value, out _) && value > 0 ? value : int.MaxValue;

    private static void RestoreGracefulClose(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(enable: false, seconds: 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed meanwhile: nothing left to close gracefully.
        }
    }
}
