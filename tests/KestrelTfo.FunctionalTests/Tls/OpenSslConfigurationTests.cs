using System.Net;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Hosting;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// HTTPS endpoints from Kestrel's configuration section, served by the TLS layer on OpenSSL after one call at start-up
/// (<c>UseOpenSslHttpsForConfiguredEndpoints</c>), with the certificate the configuration names.
/// </summary>
public sealed class OpenSslConfigurationTests
{
    [Fact(Timeout = Limits.Test)]
    public async Task A_configured_endpoint_is_served_by_the_layer_and_one_with_an_Sni_section_stays_on_SslStream()
    {
        var certificateFile = Path.Combine(Path.GetTempPath(), $"kestreltfo-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(certificateFile, TestCertificate.Instance.Export(X509ContentType.Pkcs12, "secret"), TestContext.Current.CancellationToken);
        try
        {
            var layer = Loopback.NextAddress();
            var sni = Loopback.NextAddress();
            await using var app = new KestrelAppFactory<Program>(
                settings: new()
                {
                    ["Kestrel:Endpoints:Layer:Url"] = $"https://{layer}:0",
                    ["Kestrel:Endpoints:Layer:Protocols"] = "Http1AndHttp2",
                    ["Kestrel:Endpoints:Layer:Certificate:Path"] = certificateFile,
                    ["Kestrel:Endpoints:Layer:Certificate:Password"] = "secret",
                    ["Kestrel:Endpoints:WithSni:Url"] = $"https://{sni}:0",
                    ["Kestrel:Endpoints:WithSni:Sni:*:Certificate:Path"] = certificateFile,
                    ["Kestrel:Endpoints:WithSni:Sni:*:Certificate:Password"] = "secret",
                },
                listen: options => options.UseOpenSslHttpsForConfiguredEndpoints());

            var endPoints = app.EndPoints;
            var onLayer = await OpenSslEndpoint.ReportAsync(new Uri($"https://{endPoints.Single(e => e.Address.Equals(layer))}"), HttpVersion.Version20);
            var onSslStream = await OpenSslEndpoint.ReportAsync(new Uri($"https://{endPoints.Single(e => e.Address.Equals(sni))}"));

            Assert.Equal((typeof(OpenSslTlsFeature).FullName, "h2", true), (onLayer.TlsFeatureType, onLayer.ApplicationProtocol, onLayer.IsHttps));
            Assert.NotEqual(typeof(OpenSslTlsFeature).FullName, onSslStream.TlsFeatureType);
            Assert.True(onSslStream.IsHttps);
            var stays = Assert.Single(app.Logs.Entries, e => e.Category == OpenSslTlsLog.Category && e.EventId.Id == 4);
            Assert.Contains("WithSni", stays.Message);
        }
        finally
        {
            File.Delete(certificateFile);
        }
    }
}
