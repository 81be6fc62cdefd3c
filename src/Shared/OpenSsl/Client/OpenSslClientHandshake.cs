using System.Net.Security;
using System.Security.Authentication;

namespace KestrelTfo.OpenSsl.Client;

/// <summary>What a client's handshake settled.</summary>
/// <param name="Protocol">TLS 1.3 or 1.2.</param>
/// <param name="IsResumed">Whether a stored session resumed (no certificate was sent or checked).</param>
/// <param name="ApplicationProtocol">The ALPN protocol the server chose; default when it chose none.</param>
/// <param name="EarlyData">What became of the early data.</param>
internal sealed record OpenSslClientHandshake(SslProtocols Protocol, bool IsResumed, SslApplicationProtocol ApplicationProtocol, ClientEarlyDataStatus EarlyData);
