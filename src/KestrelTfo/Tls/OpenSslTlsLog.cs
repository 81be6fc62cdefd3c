using Microsoft.Extensions.Logging;

namespace KestrelTfo.Tls;

/// <summary>The layer's own messages, category <see cref="Category"/>. Event ids are fixed: never reuse or renumber one.</summary>
internal static partial class OpenSslTlsLog
{
    public const string Category = "KestrelTfo.Tls";

    [LoggerMessage(1, LogLevel.Warning,
        "OpenSSL 3 is not available ({Reason}): HTTPS on {Endpoint} is served by Kestrel's own UseHttps (SslStream) instead.",
        EventName = "OpenSslUnavailable")]
    public static partial void OpenSslUnavailable(ILogger logger, string reason, string endpoint);

    [LoggerMessage(2, LogLevel.Information, "HTTPS on {Endpoint} is served by the TLS layer on OpenSSL {Version}; TLS early data: {EarlyData}.", EventName = "EndpointOnOpenSsl")]
    public static partial void EndpointOnOpenSsl(ILogger logger, string endpoint, string version, string earlyData);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId}: TLS ended after the handshake: {Reason}", EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, string connectionId, string reason);

    [LoggerMessage(4, LogLevel.Information, "The configured endpoint {Endpoint} stays on Kestrel's UseHttps (SslStream): {Reason}.", EventName = "EndpointStaysOnSslStream")]
    public static partial void EndpointStaysOnSslStream(ILogger logger, string endpoint, string reason);

    [LoggerMessage(5, LogLevel.Warning,
        "The configured TLS ticket keys are weak: {Problem}. Generate a key with `openssl rand -hex 32`.",
        EventName = "TicketKeysWeak")]
    public static partial void TicketKeysWeak(ILogger logger, string problem);

    [LoggerMessage(6, LogLevel.Information,
        "Applied reloaded TLS ticket keys ({KeyCount} key(s)) to every endpoint on the TLS layer: new tickets use the first.",
        EventName = "TicketKeysReloaded")]
    public static partial void TicketKeysReloaded(ILogger logger, int keyCount);

    [LoggerMessage(7, LogLevel.Warning,
        "TicketKey was removed from the configuration: each endpoint on the TLS layer goes back to a random ticket key of its own, so tickets issued under the configured keys no longer resume, here or on another instance.",
        EventName = "TicketKeysRemoved")]
    public static partial void TicketKeysRemoved(ILogger logger);

    [LoggerMessage(8, LogLevel.Warning,
        "TLS early data is off on {Endpoint}: it asks for client certificates, and early data would reach the app before the certificate is proven.",
        EventName = "EarlyDataOffForClientCertificates")]
    public static partial void EarlyDataOffForClientCertificates(ILogger logger, string endpoint);
}
