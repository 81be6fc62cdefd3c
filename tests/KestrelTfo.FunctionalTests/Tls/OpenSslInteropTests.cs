using System.Net;
using System.Security.Authentication;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// Clients that are not this project's, and this project's TFO client, against an endpoint on the TLS layer on OpenSSL,
/// over loopback: each must get HTTPS with the protocol it asked for, and the app must see the layer's TLS features.
/// </summary>
public sealed class OpenSslInteropTests
{
    private static readonly TimeSpan s_toolLimit = TimeSpan.FromSeconds(30);

    private static readonly string OpenSslFeature = typeof(OpenSslTlsFeature).FullName!;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("1.1", "", "HTTP/1.1")] // SocketsHttpHandler offers no ALPN when only HTTP/1.1 may be used
    [InlineData("2.0", "h2", "HTTP/2")]
    public async Task HttpClient_gets_the_protocol_it_asks_for_by_ALPN(string version, string alpn, string httpProtocol)
    {
        await using var app = OpenSslEndpoint.Start();

        var report = await OpenSslEndpoint.ReportAsync(OpenSslEndpoint.BaseAddress(app), Version.Parse(version));

        Assert.True(report.IsHttps);
        Assert.Equal(("https", httpProtocol, alpn, "Tls13"), (report.Scheme, report.HttpProtocol, report.ApplicationProtocol, report.TlsProtocol));
        Assert.Equal(OpenSslFeature, report.TlsFeatureType);
        Assert.StartsWith("TLS_", report.CipherSuite);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task HttpClient_limited_to_TLS_1_2_gets_TLS_1_2_and_HTTP2()
    {
        await using var app = OpenSslEndpoint.Start();
        var handler = FastOpenHttp.Handler(log: null);
#pragma warning disable CA5398 // The test pins the version on purpose.
        handler.SslOptions.EnabledSslProtocols = SslProtocols.Tls12;
#pragma warning restore CA5398

        var report = await OpenSslEndpoint.ReportAsync(OpenSslEndpoint.BaseAddress(app), HttpVersion.Version20, handler);

        Assert.Equal(("Tls12", "h2", OpenSslFeature), (report.TlsProtocol, report.ApplicationProtocol, report.TlsFeatureType));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("--http1.1", "HTTP/1.1", "http/1.1")]
    [InlineData("--http2", "HTTP/2", "h2")]
    public async Task Curl_is_served(string versionOption, string httpProtocol, string alpn)
    {
        await using var app = OpenSslEndpoint.Start();

        var (exitCode, output) = await ChildProcess.RunAsync(
            "curl", ["-sS", "--insecure", versionOption, "--max-time", "20", $"{OpenSslEndpoint.BaseAddress(app)}tls"], s_toolLimit, TestContext.Current.CancellationToken);

        Assert.True(exitCode == 0, $"curl exited {exitCode}: {output}");
        var report = JsonSerializer.Deserialize<TlsReport>(output, JsonSerializerOptions.Web)!;
        Assert.Equal((httpProtocol, alpn, OpenSslFeature), (report.HttpProtocol, report.ApplicationProtocol, report.TlsFeatureType));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task A_response_of_many_records_arrives_whole_and_in_order(string version)
    {
        // About 1 MB, a multiple of neither the pipes' blocks nor the layer's pieces of ciphertext (16 KB).
        const int Length = (1024 * 1024) + 4099;
        await using var app = OpenSslEndpoint.Start();
        using var client = new HttpClient(FastOpenHttp.Handler(log: null));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(OpenSslEndpoint.BaseAddress(app), $"/bytes/{Length}"))
        {
            Version = Version.Parse(version),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await client.SendAsync(request, Timeout);
        var body = await response.Content.ReadAsByteArrayAsync(Timeout);

        Assert.Equal(Version.Parse(version), response.Version);
        Assert.True(PatternBytes.Of(Length).AsSpan().SequenceEqual(body), $"{body.Length} bytes arrived, not the {Length} sent, or not in order");
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("-tls1_3", "TLSv1.3", "Tls13")]
    [InlineData("-tls1_2", "TLSv1.2", "Tls12")]
    public async Task OpenSsl_s_client_resumes_its_session_with_a_ticket(string versionOption, string openSslName, string tlsProtocol)
    {
        await using var app = OpenSslEndpoint.Start();
        using var session = new TempFile();

        var first = await OpenSslEndpoint.SClientAsync(app, versionOption, "-sess_out", session.Path);
        var second = await OpenSslEndpoint.SClientAsync(app, versionOption, "-sess_in", session.Path);

        Assert.Contains($"New, {openSslName}", first);
        Assert.Contains($"\"tlsProtocol\":\"{tlsProtocol}\"", first);
        Assert.Contains($"Reused, {openSslName}", second);
        Assert.True(second.Contains($"\"tlsFeatureType\":\"{OpenSslFeature}\"", StringComparison.Ordinal), second);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_gRPC_call_is_served_over_HTTP2()
    {
        await using var app = OpenSslEndpoint.Start();
        using var handler = FastOpenHttp.Handler(log: null);
        using var channel = GrpcChannel.ForAddress(OpenSslEndpoint.BaseAddress(app), new GrpcChannelOptions { HttpHandler = handler });

        var report = await channel.CreateCallInvoker().AsyncUnaryCall(FastOpenReportGrpc.Report, host: null, new CallOptions(cancellationToken: Timeout), string.Empty);

        Assert.True(report.HasFeature);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_TFO_clients_ClientHello_rides_in_the_SYN_and_the_layer_answers_it()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = OpenSslEndpoint.Start();
        var baseAddress = OpenSslEndpoint.BaseAddress(app);
        using var log = new ClientLog();

        var cookie = await FastOpenHttp.ReportAsync(baseAddress, log);
        var fastOpen = await FastOpenHttp.ReportAsync(baseAddress, log, version: HttpVersion.Version20);
        var tls = await OpenSslEndpoint.ReportAsync(baseAddress, HttpVersion.Version20, FastOpenHttp.Handler(log));

        Assert.False(cookie.Report.IsFastOpen);
        Assert.True(fastOpen.Report.IsFastOpen);
        Assert.Equal(HttpVersion.Version20, fastOpen.Version);
        Assert.Equal((EarlyDataKind.TlsClientHello, EarlyDataAction.None), (fastOpen.Report.EarlyDataKind, fastOpen.Report.EarlyDataAction));
        Assert.Equal(OpenSslFeature, tls.TlsFeatureType);
        Assert.Equal(["CookieRequested", "DataAccepted", "DataAccepted"], log.Connections);
    }
}
