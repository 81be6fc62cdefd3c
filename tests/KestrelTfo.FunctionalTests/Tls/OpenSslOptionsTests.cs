using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// <see cref="HttpsConnectionAdapterOptions"/> as the TLS layer on OpenSSL honours them (SNI selection, client
/// certificates), and Kestrel's TLS metrics and logs as it records them, over real sockets.
/// </summary>
public sealed class OpenSslOptionsTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task The_selector_picks_the_certificate_by_SNI_and_an_unknown_name_ends_that_connection_only()
    {
        await using var app = OpenSslEndpoint.Start(https =>
        {
            https.ServerCertificate = null;
            https.ServerCertificateSelector = (_, name) => name == "known.test" ? TestCertificate.Instance : null;
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => OpenSslEndpoint.ReportAsync(ByName("unknown.test", app), handler: Resolving(app)));
        var known = await OpenSslEndpoint.ReportAsync(ByName("known.test", app), handler: Resolving(app));

        Assert.Equal("known.test", known.HostName);
        var failure = Assert.Single(app.Logs.Entries, e => e.Category == KestrelHttpsLog.Category && e.EventId.Id == 1);
        Assert.Contains("no certificate for 'unknown.test'", failure.Exception?.Message);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_required_client_certificate_is_validated_by_the_apps_callback()
    {
        using var good = ClientCertificate("CN=good client");
        using var bad = ClientCertificate("CN=bad client");
        await using var app = OpenSslEndpoint.Start(https =>
        {
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => certificate.Subject == "CN=good client";
        });
        var baseAddress = OpenSslEndpoint.BaseAddress(app);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => OpenSslEndpoint.ReportAsync(baseAddress, handler: WithClientCertificate(bad)));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => OpenSslEndpoint.ReportAsync(baseAddress, handler: WithClientCertificate(null)));
        var served = await OpenSslEndpoint.ReportAsync(baseAddress, HttpVersion.Version20, WithClientCertificate(good));

        Assert.Equal("CN=good client", served.ClientCertificate);
        // HttpClient may try a failed request again on a new connection. No certificate at all is refused by OpenSSL
        // (SSL_VERIFY_FAIL_IF_NO_PEER_CERT) with its own reason; a bad one by the app's callback.
        var failures = app.Logs.Entries.Where(e => e.Category == KestrelHttpsLog.Category && e.EventId.Id == 1).ToList();
        Assert.Contains(failures, e => e.Exception?.Message.Contains("'CN=bad client' failed validation", StringComparison.Ordinal) == true);
        Assert.Contains(failures, e => e.Exception?.Message.Contains("peer did not return a certificate", StringComparison.Ordinal) == true);
        Assert.All(failures, e => Assert.IsType<System.Security.Authentication.AuthenticationException>(e.Exception));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_allowed_client_certificate_may_be_absent()
    {
        await using var app = OpenSslEndpoint.Start(https => https.ClientCertificateMode = ClientCertificateMode.AllowCertificate);

        var report = await OpenSslEndpoint.ReportAsync(OpenSslEndpoint.BaseAddress(app), handler: WithClientCertificate(null));

        Assert.Null(report.ClientCertificate);
        Assert.True(report.IsHttps);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Handshakes_are_recorded_in_Kestrels_TLS_metrics_and_logs()
    {
        await using var app = OpenSslEndpoint.Start();
        var baseAddress = OpenSslEndpoint.BaseAddress(app);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), KestrelTlsMetrics.MeterName);

        await OpenSslEndpoint.ReportAsync(baseAddress);
        await OpenSslEndpoint.ReportAsync(baseAddress, HttpVersion.Version20);

        Assert.Equal(["1.3", "1.3"], metrics.TagValues("kestrel.tls_handshake.duration", "tls.protocol.version"));
        Assert.Equal(0, metrics.Sum("kestrel.active_tls_handshakes"));
        Assert.Equal(2, metrics.Measurements.Count(m => m.Instrument == "kestrel.active_tls_handshakes" && m.Value == 1));
        var established = app.Logs.Entries.Where(e => e.Category == KestrelHttpsLog.Category && e.EventId.Id == 3).ToList();
        Assert.Equal(2, established.Count);
        Assert.All(established, e => Assert.EndsWith("Tls13", e.Message));

        // Kestrel's own connection duration carries the tag too, through IConnectionMetricsTagsFeature, once each ends.
        Assert.True(
            await metrics.WaitUntilAsync(m => m.TagValues("kestrel.connection.duration", "tls.protocol.version").Count(v => Equals(v, "1.3")) == 2, TimeSpan.FromSeconds(10), Timeout),
            string.Join(", ", metrics.TagValues("kestrel.connection.duration", "tls.protocol.version")));
    }

    /// <summary>The server by a host name, which the client sends by SNI (SocketsHttpHandler sends the URI's host).</summary>
    private static Uri ByName(string hostName, KestrelAppFactory<Program> app) => new($"https://{hostName}:{app.EndPoint.Port}");

    /// <summary>A handler that connects every host name to the app's endpoint.</summary>
    private static SocketsHttpHandler Resolving(KestrelAppFactory<Program> app)
    {
        var endPoint = app.EndPoint;
        var handler = FastOpenHttp.Handler(log: null);
        handler.ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(endPoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        };
        return handler;
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_failed_handshake_is_recorded_with_its_error_type_and_no_protocol()
    {
        await using var app = OpenSslEndpoint.Start();
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), KestrelTlsMetrics.MeterName);

        using (var socket = new System.Net.Sockets.Socket(app.EndPoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await socket.ConnectAsync(app.EndPoint, Timeout);
            await socket.SendAsync("not TLS\r\n\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None, Timeout);
            await socket.ReceiveAsync(new byte[64], System.Net.Sockets.SocketFlags.None, Timeout);
        }

        Assert.True(await metrics.WaitUntilAsync(m => m.TagValues("kestrel.tls_handshake.duration", "error.type").Count == 1, TimeSpan.FromSeconds(10), Timeout));
        var failed = Assert.Single(metrics.Measurements, m => m.Instrument == "kestrel.tls_handshake.duration");
        Assert.Equal(typeof(System.Security.Authentication.AuthenticationException).FullName, failed.Tags["error.type"]);
        Assert.False(failed.Tags.ContainsKey("tls.protocol.version"));
        Assert.Equal(0, metrics.Sum("kestrel.active_tls_handshakes"));
    }

    private static SocketsHttpHandler WithClientCertificate(X509Certificate2? certificate)
    {
        var handler = FastOpenHttp.Handler(log: null);
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!;
        return handler;
    }

    private static X509Certificate2 ClientCertificate(string subject) =>
        TestCertificate.Make(subject, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), usage: TestCertificate.ClientAuthentication);
}
