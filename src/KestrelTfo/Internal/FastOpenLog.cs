using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

/// <summary>
/// The transport's log messages. Event ids are fixed: never reuse or renumber one.
/// </summary>
internal static partial class FastOpenLog
{
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

    [LoggerMessage(6, LogLevel.Debug,
        "Listening on {EndPoint} with TCP Fast Open {State} (queue length {QueueLength}).",
        EventName = "ListenerBound")]
    public static partial void ListenerBound(ILogger logger, EndPoint endPoint, string state, int queueLength);

    [LoggerMessage(7, LogLevel.Debug,
        "A connection to {EndPoint} was reset before it could be accepted ({SocketError}).",
        EventName = "ConnectionReset")]
    public static partial void ConnectionReset(ILogger logger, EndPoint endPoint, SocketError socketError);

    [LoggerMessage(8, LogLevel.Warning,
        "Accepting a connection on {EndPoint} failed ({SocketError}: {Reason}); retrying in {Delay}.",
        EventName = "AcceptFailed")]
    public static partial void AcceptFailed(ILogger logger, EndPoint endPoint, SocketError socketError, string reason, TimeSpan delay);

    [LoggerMessage(9, LogLevel.Warning,
        "{OS} does not tell which connections carried data in their SYN, so the {Policy} early-data policy cannot be enforced on {EndPoint}: TCP Fast Open stays off there.",
        EventName = "PolicyUnenforceable")]
    public static partial void PolicyUnenforceable(ILogger logger, string os, EarlyDataPolicy policy, EndPoint endPoint);

    [LoggerMessage(10, LogLevel.Warning,
        "{OS} does not tell which connections carried data in their SYN: connections on {EndPoint} report no TCP Fast Open and early data is never flagged, so a replayed plaintext request cannot be told apart.",
        EventName = "EarlyDataUninspected")]
    public static partial void EarlyDataUninspected(ILogger logger, string os, EndPoint endPoint);

    [LoggerMessage(20, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint}: its {EarlyDataLength} bytes of early data are {EarlyDataKind} {Method}, not a TLS ClientHello, so it may be a replay; {Action} by policy.",
        EventName = "EarlyDataNotReplaySafe")]
    public static partial void EarlyDataNotReplaySafe(ILogger logger, EndPoint? remoteEndPoint, int earlyDataLength, EarlyDataKind earlyDataKind, string? method, string action);

    [LoggerMessage(21, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} never completed its handshake ({Reason}); closed before the application saw its early data.",
        EventName = "EarlyDataDeferralFailed")]
    public static partial void EarlyDataDeferralFailed(ILogger logger, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(22, LogLevel.Debug,
        "TCP Fast Open connection from {RemoteEndPoint} repeats a ClientHello seen within {Window}; closed as a duplicate.",
        EventName = "ClientHelloDebounced")]
    public static partial void ClientHelloDebounced(ILogger logger, EndPoint? remoteEndPoint, TimeSpan window);

    [LoggerMessage(30, LogLevel.Warning,
        "Could not set the TCP Fast Open cookie keys on {EndPoint} ({SocketError}: {Reason}); it keeps the keys it had.",
        EventName = "CookieKeysFailed")]
    public static partial void CookieKeysFailed(ILogger logger, EndPoint endPoint, SocketError socketError, string reason);

    [LoggerMessage(31, LogLevel.Information,
        "Applied reloaded TCP Fast Open cookie keys ({KeyCount} key(s)) to {Applied} of {ListenerCount} listener(s).",
        EventName = "CookieKeysReloaded")]
    public static partial void CookieKeysReloaded(ILogger logger, int keyCount, int applied, int listenerCount);

    [LoggerMessage(35, LogLevel.Warning,
        "The kernel refused a backup TCP Fast Open cookie key on {EndPoint} (it needs Linux 5.3); only the primary key is in force there.",
        EventName = "BackupCookieKeyUnsupported")]
    public static partial void BackupCookieKeyUnsupported(ILogger logger, EndPoint endPoint);

    [LoggerMessage(32, LogLevel.Error,
        "Rejected the reloaded TCP Fast Open options; the cookie keys in force stay. {Failures}",
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
}
