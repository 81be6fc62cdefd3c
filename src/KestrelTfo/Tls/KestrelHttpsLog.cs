using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Tls;

/// <summary>
/// The layer's per-connection messages in Kestrel's own HTTPS category, with Kestrel's event ids, names and levels, so
/// log filters and queries written for Kestrel's <c>HttpsConnectionMiddleware</c> keep working.
/// </summary>
internal static partial class KestrelHttpsLog
{
    public const string Category = "Microsoft.AspNetCore.Server.Kestrel.Https.Internal.HttpsConnectionMiddleware";

    [LoggerMessage(1, LogLevel.Debug, "Failed to authenticate HTTPS connection.", EventName = "AuthenticationFailed")]
    public static partial void AuthenticationFailed(ILogger logger, Exception exception);

    [LoggerMessage(2, LogLevel.Debug, "Authentication of the HTTPS connection timed out.", EventName = "AuthenticationTimedOut")]
    public static partial void AuthenticationTimedOut(ILogger logger);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId} established using the following protocol: {Protocol}", EventName = "HttpsConnectionEstablished")]
    public static partial void HttpsConnectionEstablished(ILogger logger, string connectionId, SslProtocols protocol);
}
