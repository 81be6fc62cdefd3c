using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using KestrelTfo.Tls;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>The test app with one HTTPS endpoint (HTTP/1.1 and HTTP/2) on the TLS layer on OpenSSL, and ways to ask it about TLS.</summary>
internal static class OpenSslEndpoint
{
    private static readonly TimeSpan s_toolLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Listens on a loopback address of its own, with <see cref="TestCertificate"/> unless <paramref name="configure"/> says
    /// otherwise, and with the configuration <paramref name="settings"/> and <paramref name="host"/> give.
    /// </summary>
    public static KestrelAppFactory<Program> Start(
        Action<HttpsConnectionAdapterOptions>? configure = null, Dictionary<string, string?>? settings = null, Action<IWebHostBuilder>? host = null)
    {
        var address = Loopback.NextAddress();
        return new KestrelAppFactory<Program>(settings, configure: host, listen: options => options.Listen(address, 0, listen =>
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

    /// <summary>
    /// The test app on the TLS layer with TLS 1.3 early data on or off, at <paramref name="at"/> (a loopback address of
    /// its own when null), with the ticket key, clock, early-data limit and certificate (<see cref="TestCertificate"/>) given.
    /// </summary>
    public static KestrelAppFactory<Program> StartEarlyData(
        bool earlyData, IPEndPoint? at = null, TimeSpan? handshakeTimeout = null, string? ticketKey = null, TimeProvider? time = null, int? maxEarlyData = null,
        X509Certificate2? certificate = null) =>
        new(
            settings: new Dictionary<string, string?>
            {
                ["Kestrel:FastOpen:TicketKey"] = ticketKey,
                ["Kestrel:FastOpen:TlsMaxEarlyDataSize"] = maxEarlyData?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }.Where(setting => setting.Value is not null).ToDictionary(),
            configure: time is null ? null : host => host.ConfigureServices(services => services.AddSingleton(time)),
            listen: options => options.Listen(at ?? new IPEndPoint(Loopback.NextAddress(), 0), listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseOpenSslHttps(new() { ServerCertificate = certificate ?? TestCertificate.Instance, HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10) }, earlyData);
            }));

    /// <summary>The transport's and the TLS layer's measurements in <paramref name="app"/>.</summary>
    public static MetricsCollector TlsMetrics(KestrelAppFactory<Program> app) =>
        new(app.Services.GetRequiredService<IMeterFactory>(), FastOpenMetrics.MeterName, KestrelTlsMetrics.MeterName);

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

    /// <summary>
    /// One <c>openssl s_client</c> connection (an HTTP/1.0 GET of <c>/tls</c>, after which the server closes) with
    /// <paramref name="versionOption"/> and <paramref name="sessionArguments"/> (<c>-sess_out FILE</c>, <c>-sess_in FILE</c>);
    /// its output, which says <c>New, TLSv1.3</c> or <c>Reused, TLSv1.3</c>.
    /// </summary>
    public static Task<string> SClientAsync(KestrelAppFactory<Program> app, string versionOption, params string[] sessionArguments) =>
        SClientAsync(app.EndPoint, versionOption, sessionArguments);

    /// <summary>The same, to any server's <paramref name="endPoint"/>.</summary>
    public static async Task<string> SClientAsync(IPEndPoint endPoint, string versionOption, params string[] sessionArguments)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(
            "openssl",
            ["s_client", "-connect", endPoint.ToString(), versionOption, "-alpn", "http/1.1", .. sessionArguments, "-ign_eof"],
            s_toolLimit,
            TestContext.Current.CancellationToken,
            // HTTP/1.0: the body comes unchunked and the server closes the connection after it.
            input: $"GET /tls HTTP/1.0\r\nHost: {endPoint}\r\n\r\n");
        Assert.True(exitCode == 0, $"openssl s_client exited {exitCode}: {output}");
        return output;
    }
}
