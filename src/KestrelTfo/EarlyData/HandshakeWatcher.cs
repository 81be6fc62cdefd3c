using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.EarlyData;

/// <summary>
/// Waits, for every TCP Fast Open connection accepted before its handshake completed, until the kernel reports the
/// handshake complete, and opens or fails each one's gate. The kernel raises no event for that, so the watcher asks it:
/// one timer for all pending connections, set for the next one due, each connection asked after 1 ms, then at intervals
/// that double up to 50 ms. The gate holds back a deferred connection's input (where the kernel's filter cannot be
/// attached, and for SYN data that passes the filter but not the guard) and every such connection's close
/// (<see cref="Internal.PendingHandshakes"/>).
/// </summary>
internal sealed class HandshakeWatcher : IDisposable
{
    private static readonly TimeSpan s_firstInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_longestInterval = TimeSpan.FromMilliseconds(50);

    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly List<Pending> _pending = [];
    private readonly ITimer _timer;
    private bool _disposed;

    public HandshakeWatcher(TimeSpan timeout, TimeProvider time)
    {
        _timeout = timeout;
        _time = time;
        _timer = time.CreateTimer(static state => ((HandshakeWatcher)state!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How the wait for a handshake ended, when it did not complete.</summary>
    public enum Failure
    {
        /// <summary>Not within the timeout.</summary>
        TimedOut,

        /// <summary>The connection left SYN_RECV for another state, as a replayed SYN does when the real client resets it.</summary>
        Reset,

        /// <summary>The socket was closed while it waited (the connection was aborted).</summary>
        Closed,

        /// <summary>The transport stopped first.</summary>
        Stopped,
    }

    /// <summary>
    /// Watches <paramref name="socket"/>: <paramref name="gate"/> gets true once its handshake completes, otherwise false.
    /// <paramref name="ended"/> is told how it ended: with no failure and no reason just before the gate opens, with the
    /// failure and its reason just after the gate shuts. Its exceptions are swallowed: one connection's trouble stays its own.
    /// </summary>
    public void Watch(Socket socket, TaskCompletionSource<bool> gate, Action<Failure?, string?> ended)
    {
        var now = _time.GetTimestamp();
        var pending = new Pending(socket, gate, ended, now, now + Ticks(s_firstInterval), s_firstInterval);
        lock (_pending)
        {
            if (!_disposed)
            {
                _pending.Add(pending);
                Schedule(now);
                return;
            }
        }

        End(pending, Failure.Stopped, "the server is stopping");
    }

    /// <summary>Stops the timer and fails every connection still waiting.</summary>
    public void Dispose()
    {
        Pending[] left;
        lock (_pending)
        {
            _disposed = true;
            left = [.. _pending];
            _pending.Clear();
        }

        _timer.Dispose();
        foreach (var pending in left)
        {
            End(pending, Failure.Stopped, "the server is stopping");
        }
    }

    private void Check()
    {
        // The connections due leave the list while they are asked, so a timer that fires again meanwhile (Watch sets it
        // for a newcomer) cannot ask one twice.
        var now = _time.GetTimestamp();
        List<Pending> due;
        lock (_pending)
        {
            due = _pending.FindAll(p => p.Due <= now);
            _pending.RemoveAll(p => p.Due <= now);
        }

        var waiting = new List<Pending>(due.Count);
        foreach (var pending in due)
        {
            var (done, failure, reason) = Ask(pending, now);
            if (!done)
            {
                waiting.Add(pending);
            }
            else
            {
                End(pending, failure, reason);
            }
        }

        lock (_pending)
        {
            if (!_disposed)
            {
                _pending.AddRange(waiting);
                Schedule(now);
                return;
            }
        }

        foreach (var pending in waiting)
        {
            End(pending, Failure.Stopped, "the server is stopping");
        }
    }

    // Decides one connection; a connection not yet decided gets its next time.
    private (bool Done, Failure? Failure, string? Reason) Ask(Pending pending, long now)
    {
        TcpConnectionInfo info;
        try
        {
            info = TcpConnectionInfo.Read(pending.Socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return (true, Failure.Closed, "the connection was closed while it waited");
        }

        if (info.HandshakeCompleted)
        {
            return (true, null, null);
        }

        if (info.State == TcpState.FinWait1)
        {
            // This end closed it (an abort shuts the socket down before it closes it): no reset from the client.
            return (true, Failure.Closed, "the connection was closed while it waited");
        }

        if (info.State != TcpState.SynReceived)
        {
            return (true, Failure.Reset, $"it went from SYN_RECV to {info.State}, as a replayed SYN does when the real client resets it");
        }

        if (_time.GetElapsedTime(pending.Started, now) >= _timeout)
        {
            return (true, Failure.TimedOut, $"not within {_timeout}");
        }

        var interval = TimeSpan.FromTicks(Math.Min(pending.Interval.Ticks * 2, s_longestInterval.Ticks));
        pending.Interval = interval;
        pending.Due = now + Ticks(interval);
        return (false, null, null);
    }

    // Under the lock: the timer fires once, for the connection due first.
    private void Schedule(long now)
    {
        if (_pending.Count == 0)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var next = _pending.Min(p => p.Due);
        var wait = next <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, next);
        _timer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private static void End(Pending pending, Failure? failure, string? reason)
    {
        // A failed connection's gate shuts first, so that nothing buffered can be read once it is aborted; a completed
        // one's opens last, once the guard has readied the socket for its life as an ordinary connection.
        if (failure is not null)
        {
            pending.Gate.TrySetResult(false);
        }

        try
        {
            pending.Ended(failure, reason);
        }
        catch (Exception)
        {
            // A throwing metrics listener or logger must not stop the watcher.
        }

        pending.Gate.TrySetResult(failure is null);
    }

    private long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * _time.TimestampFrequency);

    private sealed class Pending(Socket socket, TaskCompletionSource<bool> gate, Action<Failure?, string?> ended, long started, long due, TimeSpan interval)
    {
        public Socket Socket { get; } = socket;

        public TaskCompletionSource<bool> Gate { get; } = gate;

        public Action<Failure?, string?> Ended { get; } = ended;

        public long Started { get; } = started;

        public long Due { get; set; } = due;

        public TimeSpan Interval { get; set; } = interval;
    }
}
