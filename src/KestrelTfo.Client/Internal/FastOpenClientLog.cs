using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// The client's log messages, category <c>KestrelTfo.Client</c>. Event ids are fixed (100-119): never reuse or
/// renumber one.
/// </summary>
internal static partial class FastOpenClientLog
{
    public const string Category = "KestrelTfo.Client";

    [LoggerMessage(100, LogLevel.Warning,
        "TCP Fast Open is not available for client connections: {Problem}. Connections open normally. To enable it: {Fix}.",
        EventName = "FastOpenUnavailable")]
    public static partial void FastOpenUnavailable(ILogger logger, string problem, string fix);

    [LoggerMessage(101, LogLevel.Debug,
        "Connected to {EndPoint} with TCP Fast Open, the {FirstWrite} in the SYN: {Outcome}.",
        EventName = "FastOpenConnected")]
    public static partial void FastOpenConnected(ILogger logger, EndPoint endPoint, FirstWriteKind firstWrite, FastOpenOutcome outcome);

    [LoggerMessage(102, LogLevel.Debug,
        "Connected to {EndPoint} without TCP Fast Open: the first write ({FirstWrite}) waits for the handshake.",
        EventName = "ConnectedNormally")]
    public static partial void ConnectedNormally(ILogger logger, EndPoint endPoint, FirstWriteKind firstWrite);

    [LoggerMessage(103, LogLevel.Debug,
        "Could not connect to {EndPoint} ({SocketError}); {AddressesLeft} more address(es) to try.",
        EventName = "ConnectAttemptFailed")]
    public static partial void ConnectAttemptFailed(ILogger logger, EndPoint endPoint, SocketError socketError, int addressesLeft);

    [LoggerMessage(104, LogLevel.Debug,
        "No SYN-ACK from {EndPoint} within {DelayMilliseconds} ms; racing a connection without TCP Fast Open.",
        EventName = "FallbackRaceStarted")]
    public static partial void FallbackRaceStarted(ILogger logger, EndPoint endPoint, double delayMilliseconds);

    // Information the first time for a connector, Debug after that: on a path that drops SYNs with data every
    // connection races, and one line says so.
    [LoggerMessage(EventId = 105,
        Message = "The connection to {EndPoint} without TCP Fast Open was established first: something on the path may drop SYNs that carry data.",
        EventName = "FallbackRaceWon")]
    public static partial void FallbackRaceWon(ILogger logger, LogLevel level, EndPoint endPoint);

    [LoggerMessage(106, LogLevel.Information,
        "TLS early data is off for HTTPS requests of this handler: {Reason}. They go over SocketsHttpHandler's own TLS, with TCP Fast Open as configured.",
        EventName = "TlsEarlyDataOff")]
    public static partial void TlsEarlyDataOff(ILogger logger, string reason);

    [LoggerMessage(107, LogLevel.Debug,
        "{Method} {Uri} goes over SocketsHttpHandler's own TLS: {Reason}.",
        EventName = "RequestOnHandlerTls")]
    public static partial void RequestOnHandlerTls(ILogger logger, string method, Uri uri, string reason);

    [LoggerMessage(108, LogLevel.Debug,
        "TLS connection to {EndPoint}: resumed {Resumed}, first request {EarlyData}.",
        EventName = "TlsConnected")]
    public static partial void TlsConnected(ILogger logger, EndPoint endPoint, bool resumed, ClientEarlyDataOutcome earlyData);
}
