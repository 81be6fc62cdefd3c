using System.Net;
using System.Net.Sockets;
using KestrelTfo.EarlyData;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

/// <summary>
/// The transport's log messages, category <see cref="Category"/>. Event ids are fixed: never reuse or renumber one.
/// Where building an argument costs (a socket's remote endpoint is a system call and an allocation), the public method
/// checks the level first.
/// </summary>
internal static partial class FastOpenLog
{
    public const string Category = "KestrelTfo.Transport";

    [LoggerMessage(1, LogLevel.Warning,
        "TCP Fast Open is off for servers: {Problem}. Connections are served without it. To enable it: {Fix}.",
        EventName = "KernelSupportMissing")]
    public static partial void KernelSupportMissing(ILogger logger, string problem, string fix);

    [LoggerMessage(2, LogLevel.Debug, "TCP Fast Open is on for servers ({Setting}).", EventName = "KernelSupportFound")]
    public static partial void KernelSupportFound(ILogger logger, string setting);

    [LoggerMessage(3, LogLevel.Information,
        "Enabled TCP Fast Open for servers: set {Setting} from {OldValue} to {NewValue}, as TryEnableKernelSupport allows.",
        EventName = "KernelSupportEnabled")]
    public static partial void KernelSupportEnabled(ILogger logger, string setting, int oldValue, int newValue);

    [LoggerMessage(4, LogLevel.Warning,
        "TryEnableKernelSupport could not set {Setting} to {NewValue}: {Reason}.",
        EventName = "KernelSupportEnableFailed")]
    public static partial void KernelSupportEnableFailed(ILogger logger, string setting, int newValue, string? reason);

    [LoggerMessage(5, LogLevel.Warning,
        "Could not enable TCP Fast Open on {EndPoint} ({SocketError}: {Reason}); this listener serves without it.",
        EventName = "ListenerFastOpenFailed")]
    public static partial void ListenerFastOpenFailed(ILogger logger, EndPoint endPoint, SocketError socketError, string reason);

    [LoggerMessage(6, LogLevel.Information,
        "Listening on {EndPoint} with TCP Fast Open {State} (queue length {QueueLength}); cookie keys: {CookieKeys}; early data that is not a TLS ClientHello: {EarlyData}.",
        EventName = "ListenerStarted")]
    public static partial void ListenerStarted(ILogger logger, EndPoint endPoint, string state, int queueLength, string cookieKeys, string earlyData);

    [LoggerMessage(7, LogLevel.Debug,
        "A connection to {EndPoint} was reset before it could be accepted ({SocketError}).",
        EventName = "ConnectionReset")]
    public static partial void ConnectionReset(ILogger logger, EndPoint endPoint, SocketError socketError);

    [LoggerMessage(8, LogLevel.Warning,
        "Accepting a connection on {EndPoint} failed ({SocketError}: {Reason}); retrying every {Delay}, and saying so again only if it fails another way.",
        EventName = "AcceptFailed")]
    public static partial void AcceptFailed(ILogger logger, EndPoint endPoint, SocketError socketError, string reason, TimeSpan delay);

    [LoggerMessage(9, LogLevel.Warning,
        "{OS} does not tell which connections carried data in their SYN, so the early-data guard cannot work on {EndPoint}: TCP Fast Open stays off there. Set AllowUnguardedEarlyData to accept early data unguarded.",
        EventName = "FastOpenOffUninspectable")]
    public static partial void FastOpenOffUninspectable(ILogger logger, string os, EndPoint endPoint);

    [LoggerMessage(10, LogLevel.Warning,
        "{OS} does not tell which connections carried data in their SYN: TCP Fast Open is on for {EndPoint} because AllowUnguardedEarlyData is set, so early data is never flagged or deferred and a replayed plaintext request cannot be told apart.",
        EventName = "EarlyDataUninspected")]
    public static partial void EarlyDataUninspected(ILogger logger, string os, EndPoint endPoint);

    [LoggerMessage(11, LogLevel.Warning,
        "{Setting} has bit 0x200: the kernel accepts data in SYNs that carry no cookie, so anyone can put a request in a SYN from a forged address, and the app sees that address as the client's. Clear the bit unless every client is trusted.",
        EventName = "KernelAcceptsDataWithoutCookie")]
    public static partial void KernelAcceptsDataWithoutCookie(ILogger logger, string setting);

    [LoggerMessage(12, LogLevel.Warning,
        "The listening socket for {EndPoint} has TCP_FASTOPEN_NO_COOKIE set: it accepts data in SYNs that carry no cookie, so anyone can put a request in a SYN from a forged address, and the app sees that address as the client's.",
        EventName = "ListenerAcceptsDataWithoutCookie")]
    public static partial void ListenerAcceptsDataWithoutCookie(ILogger logger, EndPoint endPoint);

    [LoggerMessage(13, LogLevel.Warning,
        "Could not attach the early-data filter to {EndPoint} ({SocketError}: {Reason}); deferred connections there wait in the transport instead of the kernel.",
        EventName = "KernelFilterUnavailable")]
    public static partial void KernelFilterUnavailable(ILogger logger, EndPoint endPoint, SocketError socketError, string reason);

    [LoggerMessage(14, LogLevel.Warning,
        "EarlyDataPolicy Reject is obsolete and now means Defer: early data that is not a TLS ClientHello reaches the app only after the handshake, and no connection is reset. Set Defer to silence this.",
        EventName = "RejectMeansDefer")]
    public static partial void RejectMeansDefer(ILogger logger);

    [LoggerMessage(15, LogLevel.Error,
        "A connection accepted on {EndPoint} failed before it reached Kestrel, and was closed; the listener goes on accepting.",
        EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, EndPoint endPoint, Exception exception);

    [LoggerMessage(16, LogLevel.Warning,
        "The TCP Fast Open queue of {EndPoint} is full: {Pending} connections wait for their handshake (QueueLength {QueueLength}). Until some complete, the kernel takes no data from new SYNs there, and those clients fall back to a normal handshake, one round trip slower. If this is your traffic, raise Kestrel:FastOpen:QueueLength; no client holds more than {PerClientLimit} places (Kestrel:FastOpen:MaxPendingHandshakesPerClient). Said at most once a minute while it lasts.",
        EventName = "QueueFull")]
    public static partial void QueueFull(ILogger logger, EndPoint endPoint, int pending, int queueLength, int? perClientLimit);

    [LoggerMessage(17, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} to {EndPoint} reset as soon as accepted: its client has {Limit} connections waiting for their handshake already (MaxPendingHandshakesPerClient).",
        EventName = "ClientLimitReached")]
    public static partial void ClientLimitReached(ILogger logger, EndPoint? remoteEndPoint, int limit, EndPoint endPoint);

    [LoggerMessage(18, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} reset: its handshake did not complete within {Timeout} (FastOpenHandshakeTimeout).",
        EventName = "HandshakeTimedOut")]
    public static partial void HandshakeTimedOut(ILogger logger, EndPoint? remoteEndPoint, TimeSpan timeout);

    [LoggerMessage(19, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} ended before its handshake completed: {Reason}.",
        EventName = "HandshakeNotCompleted")]
    public static partial void HandshakeNotCompleted(ILogger logger, EndPoint? remoteEndPoint, string reason);

    public static void EarlyDataNotReplaySafe(ILogger logger, Socket socket, int earlyDataLength, EarlyDataClassification early, EarlyDataPolicy policy)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            EarlyDataNotReplaySafeCore(logger, socket.RemoteEndPoint, earlyDataLength, early.Kind, early.HttpMethod, policy == EarlyDataPolicy.Flag ? "flagged" : "deferred");
        }
    }

    [LoggerMessage(20, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint}: its {EarlyDataLength} bytes of early data are {EarlyDataKind} {Method}, not a TLS ClientHello, so it may be a replay; {Action} by policy.",
        EventName = "EarlyDataNotReplaySafe", SkipEnabledCheck = true)]
    private static partial void EarlyDataNotReplaySafeCore(ILogger logger, EndPoint? remoteEndPoint, int earlyDataLength, EarlyDataKind earlyDataKind, string? method, string action);

    [LoggerMessage(21, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} never completed its handshake ({Reason}); closed before the application saw its early data.",
        EventName = "EarlyDataDeferralFailed")]
    public static partial void EarlyDataDeferralFailed(ILogger logger, EndPoint? remoteEndPoint, string reason);

    public static void ClientHelloDebounced(ILogger logger, Socket socket, TimeSpan window)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            ClientHelloDebouncedCore(logger, socket.RemoteEndPoint, window);
        }
    }

    [LoggerMessage(22, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} repeats a ClientHello seen within {Window}; closed as a duplicate.",
        EventName = "ClientHelloDebounced", SkipEnabledCheck = true)]
    private static partial void ClientHelloDebouncedCore(ILogger logger, EndPoint? remoteEndPoint, TimeSpan window);

    public static void EarlyDataDeferredByKernel(ILogger logger, Socket socket)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            EarlyDataDeferredByKernelCore(logger, socket.RemoteEndPoint);
        }
    }

    [LoggerMessage(23, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint}: the kernel's filter refused its SYN's data (not a TLS ClientHello), which the client sends again after the handshake.",
        EventName = "EarlyDataDeferredByKernel", SkipEnabledCheck = true)]
    private static partial void EarlyDataDeferredByKernelCore(ILogger logger, EndPoint? remoteEndPoint);


    [LoggerMessage(24, LogLevel.Debug,
        "{Method} {Path} arrived before its connection's handshake completed and is not replay-safe: held until the handshake completes.",
        EventName = "EarlyDataRequestHeld")]
    public static partial void EarlyDataRequestHeld(ILogger logger, string method, PathString path);

    [LoggerMessage(25, LogLevel.Debug,
        "{Method} {Path} may be a replay (early data, or Early-Data: 1 from a proxy) and is not replay-safe: answered 425 Too Early.",
        EventName = "EarlyDataRequestTooEarly")]
    public static partial void EarlyDataRequestTooEarly(ILogger logger, string method, PathString path);

    [LoggerMessage(26, LogLevel.Debug,
        "{Method} {Path} was held for a handshake that never completed, as a replay's never does: not run.",
        EventName = "EarlyDataRequestDropped")]
    public static partial void EarlyDataRequestDropped(ILogger logger, string method, PathString path);

    // 27 to 29: reserved.

    [LoggerMessage(30, LogLevel.Warning,
        "Could not set the TCP Fast Open cookie keys on {EndPoint} ({SocketError}: {Reason}); it keeps the keys it had.",
        EventName = "CookieKeysFailed")]
    public static partial void CookieKeysFailed(ILogger logger, EndPoint endPoint, SocketError socketError, string reason);

    [LoggerMessage(31, LogLevel.Information,
        "Applied reloaded TCP Fast Open cookie keys ({KeyCount} key(s)) to {Applied} of {ListenerCount} listener(s); listeners bound later get them too.",
        EventName = "CookieKeysReloaded")]
    public static partial void CookieKeysReloaded(ILogger logger, int keyCount, int applied, int listenerCount);

    [LoggerMessage(32, LogLevel.Error,
        "Rejected the reloaded TCP Fast Open options; the cookie keys and TLS ticket keys in force stay. {Failures}",
        EventName = "CookieKeysReloadRejected")]
    public static partial void CookieKeysReloadRejected(ILogger logger, string failures);

    [LoggerMessage(33, LogLevel.Warning,
        "CookieKey was removed from the configuration, but a listener cannot go back to the kernel's key; the listeners keep the last configured keys until the app restarts.",
        EventName = "CookieKeysRemoved")]
    public static partial void CookieKeysRemoved(ILogger logger);

    [LoggerMessage(34, LogLevel.Warning,
        "CookieKey is set, but {OS} gives listeners no keys of their own; the listeners use the OS's key.",
        EventName = "CookieKeysUnsupported")]
    public static partial void CookieKeysUnsupported(ILogger logger, string os);

    [LoggerMessage(35, LogLevel.Warning,
        "The kernel refused a backup TCP Fast Open cookie key on {EndPoint} (it needs Linux 5.3); only the primary key is in force there.",
        EventName = "BackupCookieKeyUnsupported")]
    public static partial void BackupCookieKeyUnsupported(ILogger logger, EndPoint endPoint);

    [LoggerMessage(36, LogLevel.Error,
        "Applying reloaded TCP Fast Open options failed; the cookie keys and TLS ticket keys in force stay.",
        EventName = "CookieKeysReloadFailed")]
    public static partial void CookieKeysReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(37, LogLevel.Warning,
        "The configured TCP Fast Open cookie keys are weak: {Problem}. Generate a key with `openssl rand -hex 16`.",
        EventName = "CookieKeysWeak")]
    public static partial void CookieKeysWeak(ILogger logger, string problem);
}
