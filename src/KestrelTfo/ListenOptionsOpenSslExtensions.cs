using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo;
using KestrelTfo.EarlyData;
using KestrelTfo.OpenSsl;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// Serves an endpoint's HTTPS with the TLS layer on OpenSSL 3 instead of <c>SslStream</c>, called where
/// <c>UseHttps</c> would be. The endpoint still gets everything <c>UseHttps</c> gives (the https scheme, HTTP/2 by
/// ALPN, Kestrel's TLS features, metrics and logs). Where OpenSSL 3 cannot be loaded, the endpoint is served by
/// Kestrel's own <c>UseHttps</c> with the same options, and a warning says so once: never plaintext.
/// </summary>
public static class ListenOptionsOpenSslExtensions
{
    // Once per host (its logger factory), not once per endpoint: the reason is the machine's, not the endpoint's.
    private static readonly ConditionalWeakTable<ILoggerFactory, object> s_fallbackLogged = new();

    // One replay record per app: configured ticket keys let a ticket from one endpoint resume on another.
    private static readonly ConditionalWeakTable<IServiceProvider, TlsAntiReplay> s_antiReplay = new();

    /// <summary>Serves HTTPS on this endpoint with <paramref name="serverCertificate"/>, through the TLS layer on OpenSSL.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="serverCertificate">The server's certificate, with its private key (RSA or ECDSA).</param>
    /// <returns>The same <paramref name="listenOptions"/>.</returns>
    public static ListenOptions UseOpenSslHttps(this ListenOptions listenOptions, X509Certificate2 serverCertificate)
    {
        ArgumentNullException.ThrowIfNull(serverCertificate);
        return listenOptions.UseOpenSslHttps(new HttpsConnectionAdapterOptions { ServerCertificate = serverCertificate });
    }

    /// <summary>Serves HTTPS on this endpoint with the certificate in a PKCS#12 file, through the TLS layer on OpenSSL.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="fileName">The certificate file, relative to the app's content root unless absolute.</param>
    /// <param name="password">The file's password, or null.</param>
    /// <returns>The same <paramref name="listenOptions"/>.</returns>
    public static ListenOptions UseOpenSslHttps(this ListenOptions listenOptions, string fileName, string? password)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var contentRoot = listenOptions.ApplicationServices.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(contentRoot, fileName), password);
        return listenOptions.UseOpenSslHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate });
    }

    /// <summary>Serves HTTPS on this endpoint with options <paramref name="configureOptions"/> sets, through the TLS layer on OpenSSL.</summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="configureOptions">Sets the certificate (or a selector) and the rest; see <see cref="UseOpenSslHttps(ListenOptions, HttpsConnectionAdapterOptions)"/>.</param>
    /// <returns>The same <paramref name="listenOptions"/>.</returns>
    public static ListenOptions UseOpenSslHttps(this ListenOptions listenOptions, Action<HttpsConnectionAdapterOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(configureOptions);
        var options = new HttpsConnectionAdapterOptions();
        configureOptions(options);
        return listenOptions.UseOpenSslHttps(options);
    }

    /// <summary>
    /// Serves HTTPS on this endpoint through the TLS layer on OpenSSL, with <paramref name="httpsOptions"/>: the
    /// certificate and its chain, <c>ServerCertificateSelector</c> (SNI), client certificates (<c>AllowCertificate</c>,
    /// <c>RequireCertificate</c>, <c>ClientCertificateValidation</c>, <c>CheckCertificateRevocation</c>),
    /// <c>SslProtocols</c> (TLS 1.2 and 1.3) and <c>HandshakeTimeout</c>. Settings the layer cannot honour
    /// (<c>OnAuthenticate</c>, <c>TlsClientHelloBytesCallback</c>, <c>DelayCertificate</c>, TLS before 1.2) throw
    /// <see cref="NotSupportedException"/> here, at start-up, naming the setting.
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="httpsOptions">The endpoint's HTTPS options, as <c>UseHttps</c> takes them.</param>
    /// <returns>The same <paramref name="listenOptions"/>.</returns>
    public static ListenOptions UseOpenSslHttps(this ListenOptions listenOptions, HttpsConnectionAdapterOptions httpsOptions) =>
        UseOpenSslHttps(listenOptions, httpsOptions, earlyData: null, UnavailableReason);

    /// <summary>
    /// Serves HTTPS on this endpoint through the TLS layer on OpenSSL, as
    /// <see cref="UseOpenSslHttps(ListenOptions, HttpsConnectionAdapterOptions)"/> does, and says whether it accepts TLS 1.3
    /// early data (0-RTT), whatever <see cref="FastOpenTransportOptions.TlsEarlyData"/> says for all endpoints.
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="httpsOptions">The endpoint's HTTPS options, as <c>UseHttps</c> takes them.</param>
    /// <param name="earlyData">
    /// Whether a resuming client's early data reaches the app before the handshake completes. Requests in it meet the
    /// early-data guard (<see cref="FastOpenTransportOptions.UnsafeEarlyDataRequests"/>); each 0-RTT first flight is
    /// accepted at most once by this instance. Ignored, with a log line, where the endpoint asks for client certificates.
    /// Where OpenSSL 3 is not available, the fallback (<c>UseHttps</c>) accepts none.
    /// </param>
    /// <returns>The same <paramref name="listenOptions"/>.</returns>
    public static ListenOptions UseOpenSslHttps(this ListenOptions listenOptions, HttpsConnectionAdapterOptions httpsOptions, bool earlyData) =>
        UseOpenSslHttps(listenOptions, httpsOptions, earlyData, UnavailableReason);

    /// <summary>Gets why OpenSSL 3 cannot serve on this machine, or null when it can.</summary>
    internal static string? UnavailableReason => OperatingSystem.IsLinux() ? OpenSslLibrary.UnavailableReason : "not Linux";

    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="httpsOptions">The endpoint's HTTPS options.</param>
    /// <param name="earlyData">The endpoint's own early-data setting, or null for the app's.</param>
    /// <param name="unavailableReason">Why OpenSSL 3 cannot serve here, or null; tests pass one to take the fallback.</param>
    internal static ListenOptions UseOpenSslHttps(ListenOptions listenOptions, HttpsConnectionAdapterOptions httpsOptions, bool? earlyData, string? unavailableReason)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentNullException.ThrowIfNull(httpsOptions);

        var loggerFactory = listenOptions.ApplicationServices.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger(OpenSslTlsLog.Category);
        var endpoint = listenOptions.EndPoint.ToString() ?? "an endpoint";
        if (unavailableReason is not null || !OperatingSystem.IsLinux())
        {
            if (s_fallbackLogged.TryAdd(loggerFactory, s_fallbackLogged))
            {
                OpenSslTlsLog.OpenSslUnavailable(logger, unavailableReason ?? "not Linux", endpoint);
            }

            return listenOptions.UseHttps(httpsOptions);
        }

        AddLayer(listenOptions, httpsOptions, earlyData, loggerFactory, logger, endpoint);

        // Kestrel's HTTPS middleware passes a connection whose TLS feature is set straight through; registering it marks
        // the endpoint as TLS (the https scheme, HTTP/2 on Http1AndHttp2) through public API.
        return listenOptions.UseHttps(httpsOptions);
    }

    [SupportedOSPlatform("linux")]
    private static void AddLayer(ListenOptions listenOptions, HttpsConnectionAdapterOptions httpsOptions, bool? earlyData, ILoggerFactory loggerFactory, ILogger logger, string endpoint)
    {
        var services = listenOptions.ApplicationServices;
        var appOptions = services.GetService<IOptions<FastOpenTransportOptions>>()?.Value ?? new FastOpenTransportOptions();
        TlsAntiReplay? antiReplay = null;
        if (earlyData ?? appOptions.TlsEarlyData)
        {
            if (httpsOptions.ClientCertificateMode != ClientCertificateMode.NoCertificate)
            {
                // Early data would reach the app before the client's certificate is proven (RFC 8446, section 4.2.10).
                OpenSslTlsLog.EarlyDataOffForClientCertificates(logger, endpoint);
            }
            else if (services.GetService<EarlyDataRouting>() is null)
            {
                // Without the request guard a replayed POST in early data would run: never serve early data unguarded.
                throw new InvalidOperationException(
                    $"TLS early data on {endpoint} needs KestrelTfo's early-data guard for requests, which builder.WebHost.UseFastOpenTransport() adds; call it, or turn early data off for this endpoint.");
            }
            else
            {
                antiReplay = s_antiReplay.GetValue(services, s => new TlsAntiReplay(s.GetService<TimeProvider>() ?? TimeProvider.System));
            }
        }

        var server = new OpenSslServerContext(
            httpsOptions, listenOptions.Protocols, TicketKeyRing.For(services, loggerFactory), antiReplay, appOptions.TlsMaxEarlyDataSize);
        var meterFactory = services.GetService<IMeterFactory>();
        var metrics = meterFactory is null ? null : new KestrelTlsMetrics(meterFactory);
        var earlyDataMetrics = meterFactory is null ? null : new TlsEarlyDataMetrics(meterFactory);
        listenOptions.Use(next => new OpenSslConnectionMiddleware(next, server, loggerFactory, metrics, earlyDataMetrics).OnConnectionAsync);
        OpenSslTlsLog.EndpointOnOpenSsl(logger, endpoint, OpenSslLibrary.VersionText, antiReplay is null ? "off" : $"on, up to {appOptions.TlsMaxEarlyDataSize} bytes");
    }
}
