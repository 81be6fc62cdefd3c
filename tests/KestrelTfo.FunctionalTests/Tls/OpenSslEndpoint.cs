using System.Net;
using System.Net.Http.Json;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>The test app with one HTTPS endpoint (HTTP/1.1 and HTTP/2) on the TLS layer on OpenSSL, and ways to ask it about TLS.</summary>
internal static class OpenSslEndpoint
{
    /// <summary>Listens on a loopback address of its own, with <see cref="TestCertificate"/> unless <paramref name="configure"/> says otherwise.</summary>
    public static KestrelAppFactory<Program> Start(Action<HttpsConnectionAdapterOptions>? configure = null)
    {
        var address = Loopback.NextAddress();
        return new KestrelAppFactory<Program>(listen: options => options.Listen(address, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseOpenSslHttps(https =>
            {
                https.ServerCertificate = TestCertificate.Instance;
                configure?.Invoke(https);
            });
        }));
    }

    public static Uri BaseAddress(KestrelAppFactory<Program> app) => new($"https://{app.EndPoint}");

    /// <summary>One GET of <c>/tls</c> on a connection of its own, over <paramref name="version"/> exactly.</summary>
    public static async Task<TlsReport> ReportAsync(Uri baseAddress, Version? version = null, SocketsHttpHandler? handler = null)
    {
        using var client = new HttpClient(handler ?? FastOpenHttp.Handler(log: null));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, "/tls"))
        {
            Version = version ?? HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TlsReport>(TestContext.Current.CancellationToken))!;
    }
}
