using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One Kestrel on the TCP Fast Open transport with two HTTPS endpoints that differ only in the TLS stack: the layer on
/// OpenSSL (<c>UseOpenSslHttps</c>) and Kestrel's own (<c>UseHttps</c>, SslStream), with the same certificate; and the
/// layer with TLS 1.3 early data, for the client CPU runs; and one without TLS, for what a connection costs besides TLS.
/// </summary>
internal sealed class TlsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TlsServer(WebApplication app, IPEndPoint layer, IPEndPoint sslStream, IPEndPoint layerEarlyData, IPEndPoint plain, string certificateHash)
    {
        _app = app;
        Layer = layer;
        SslStream = sslStream;
        LayerEarlyData = layerEarlyData;
        Plain = plain;
        CertificateHash = certificateHash;
    }

    public IPEndPoint Layer { get; }

    public IPEndPoint SslStream { get; }

    public IPEndPoint LayerEarlyData { get; }

    public IPEndPoint Plain { get; }

    /// <summary>The SHA-256 hash of the certificate, in hexadecimal: what a client in another process accepts.</summary>
    public string CertificateHash { get; }

    public static async Task<TlsServer> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseFastOpenTransport();
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0, listen => listen.UseOpenSslHttps(certificate));
            options.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
            options.Listen(IPAddress.Loopback, 0, listen => listen.UseOpenSslHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate }, earlyData: true));
            options.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.MapGet("/", () => "ok");
        var megabyte = new byte[1024 * 1024];
        app.MapGet("/1mb", () => Results.Bytes(megabyte, "application/octet-stream"));

        // Whether the connection resumed a session, so the client CPU runs can show that both clients did. The layer's
        // handshake feature has it in a property of its own; Kestrel's interface does not say.
        app.MapGet("/resumed", (HttpContext context) =>
            context.Features.Get<ITlsHandshakeFeature>() is { } tls && tls.GetType().GetProperty("IsResumed")?.GetValue(tls) is true ? "1" : "0");
        await app.StartAsync();

        var endPoints = app.Urls.Select(u => new Uri(u)).Select(u => new IPEndPoint(IPAddress.Parse(u.Host), u.Port)).ToList();
        return new TlsServer(app, endPoints[0], endPoints[1], endPoints[2], endPoints[3], certificate.GetCertHashString(HashAlgorithmName.SHA256));
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
