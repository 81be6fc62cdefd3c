extern alias Sample;

using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Hosting;
using SampleProgram = Sample::Program;

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
        var certificateFile = TestCertificate.ExportToTemporaryFile("secret");
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

    [Fact(Timeout = Limits.Test)]
    public async Task The_samples_configured_HTTPS_endpoint_is_served_by_the_layer()
    {
        var certificateFile = TestCertificate.ExportToTemporaryFile("secret");
        try
        {
            var address = Loopback.NextAddress();
            await using var app = new KestrelAppFactory<SampleProgram>(
                settings: new()
                {
                    ["Kestrel:Endpoints:Https:Url"] = $"https://{address}:0",
                    ["Kestrel:Endpoints:Https:Certificate:Path"] = certificateFile,
                    ["Kestrel:Endpoints:Https:Certificate:Password"] = "secret",
                },
                listen: _ => { });
            using var client = new HttpClient(FastOpenHttp.Handler(log: null)) { BaseAddress = new Uri($"https://{app.EndPoint}") };

            Assert.Equal("this connection did not use TFO\n", await client.GetStringAsync("/", TestContext.Current.CancellationToken));
            var served = Assert.Single(app.Logs.Entries, e => e.Category == OpenSslTlsLog.Category && e.EventId.Id == 2);
            Assert.Contains(app.EndPoint.Address.ToString(), served.Message);
        }
        finally
        {
            File.Delete(certificateFile);
        }
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_OpenSSL_3_endpoints_fall_back_to_Kestrels_HTTPS_and_say_so_once()
    {
        var first = Loopback.NextAddress();
        var second = Loopback.NextAddress();
        await using var app = new KestrelAppFactory<Program>(listen: options =>
        {
            foreach (var address in new[] { first, second })
            {
                options.Listen(address, 0, listen => ListenOptionsOpenSslExtensions.UseOpenSslHttps(
                    listen, new() { ServerCertificate = TestCertificate.Instance }, earlyData: null, unavailableReason: "a test says so"));
            }
        });

        var reports = new List<TlsReport>();
        foreach (var endPoint in app.EndPoints)
        {
            reports.Add(await OpenSslEndpoint.ReportAsync(new Uri($"https://{endPoint}")));
        }

        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.True(r.IsHttps && r.TlsFeatureType != typeof(OpenSslTlsFeature).FullName, r.ToString()));
        var warning = Assert.Single(app.Logs.Entries, e => e.Category == OpenSslTlsLog.Category && e.EventId.Id == 1);
        Assert.Contains("a test says so", warning.Message);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_https_URL_from_urls_stays_on_SslStream_and_a_line_says_so()
    {
        var certificateFile = TestCertificate.ExportToTemporaryFile("secret");
        try
        {
            var address = Loopback.NextAddress();
            await using var app = new KestrelAppFactory<Program>(
                settings: new()
                {
                    ["urls"] = $"https://{address}:0",
                    ["Kestrel:Certificates:Default:Path"] = certificateFile,
                    ["Kestrel:Certificates:Default:Password"] = "secret",
                },
                listen: options => options.UseOpenSslHttpsForConfiguredEndpoints());

            var report = await OpenSslEndpoint.ReportAsync(new Uri($"https://{app.EndPoint}"));

            Assert.True(report.IsHttps);
            Assert.NotEqual(typeof(OpenSslTlsFeature).FullName, report.TlsFeatureType);
            var stays = Assert.Single(app.Logs.Entries, e => e.Category == OpenSslTlsLog.Category && e.EventId.Id == 4);
            Assert.Contains($"https://{address}:0", stays.Message);
        }
        finally
        {
            File.Delete(certificateFile);
        }
    }
}
