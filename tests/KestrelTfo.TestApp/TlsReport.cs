using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace KestrelTfo.TestApp;

/// <summary>What a request saw of its connection's TLS, as the test app's JSON answer.</summary>
public sealed record TlsReport(
    bool IsHttps,
    string Scheme,
    string HttpProtocol,
    string? TlsProtocol,
    string? CipherSuite,
    string? HostName,
    string? ApplicationProtocol,
    string? ClientCertificate,
    string? TlsFeatureType)
{
    public static async Task<TlsReport> FromAsync(HttpContext context)
    {
        var handshake = context.Features.Get<ITlsHandshakeFeature>();
        var alpn = context.Features.Get<ITlsApplicationProtocolFeature>();
        var tls = context.Features.Get<ITlsConnectionFeature>();
        var clientCertificate = await context.Connection.GetClientCertificateAsync(context.RequestAborted);
        return new TlsReport(
            context.Request.IsHttps,
            context.Request.Scheme,
            context.Request.Protocol,
            handshake?.Protocol.ToString(),
            handshake?.NegotiatedCipherSuite?.ToString(),
            handshake?.HostName,
            alpn is null ? null : Encoding.ASCII.GetString(alpn.ApplicationProtocol.Span),
            clientCertificate?.Subject,
            tls?.GetType().FullName);
    }
}
