using KestrelTfo.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Serves the HTTPS endpoints of Kestrel's configuration with the TLS layer on OpenSSL.</summary>
public static class KestrelServerOptionsOpenSslExtensions
{
    /// <summary>
    /// Serves every HTTPS endpoint of Kestrel's configuration section (<c>Kestrel:Endpoints:NAME</c>, with the endpoint's
    /// <c>Certificate</c> or <c>Kestrel:Certificates:Default</c>) with the TLS layer on OpenSSL, as
    /// <see cref="ListenOptionsOpenSslExtensions.UseOpenSslHttps(ListenOptions, HttpsConnectionAdapterOptions)"/>
    /// does for an endpoint in code; a configuration reload serves the reloaded certificates the same way. Call it after
    /// the configuration is attached (<c>WebApplication.CreateBuilder</c> attaches the <c>Kestrel</c> section), for
    /// example in <c>builder.WebHost.ConfigureKestrel(...)</c>.
    /// </summary>
    /// <remarks>
    /// It registers a <c>KestrelConfigurationLoader.Endpoint(name, ...)</c> callback for each configured endpoint, so a
    /// callback of the app's own for the same name must call <c>UseOpenSslHttps</c> itself. Endpoints with an <c>Sni</c>
    /// section, endpoints added by a later reload, and <c>https://</c> URLs from <c>--urls</c> or
    /// <c>ASPNETCORE_URLS</c> stay on Kestrel's <c>UseHttps</c> (<c>SslStream</c>); an endpoint with an <c>Sni</c> section
    /// and the <c>https://</c> URLs are logged at start-up.
    /// </remarks>
    /// <param name="options">Kestrel's options.</param>
    /// <returns>The same <paramref name="options"/>.</returns>
    /// <exception cref="InvalidOperationException">Kestrel has no configuration attached yet.</exception>
    public static KestrelServerOptions UseOpenSslHttpsForConfiguredEndpoints(this KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var loader = options.ConfigurationLoader ?? throw new InvalidOperationException(
            "UseOpenSslHttpsForConfiguredEndpoints needs Kestrel's configuration attached first (KestrelServerOptions.Configure(section), which WebApplication.CreateBuilder does).");
        var logger = (options.ApplicationServices?.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(OpenSslTlsLog.Category);

        foreach (var endpoint in loader.Configuration.GetSection("Endpoints").GetChildren())
        {
            if (endpoint.GetSection("Sni").Exists())
            {
                OpenSslTlsLog.EndpointStaysOnSslStream(logger, endpoint.Key, "its Sni section is read by Kestrel's internal code only");
                continue;
            }

            loader.Endpoint(endpoint.Key, configured =>
            {
                if (configured.IsHttps)
                {
                    ListenOptionsOpenSslExtensions.UseOpenSslHttps(
                        configured.ListenOptions, configured.HttpsOptions, EarlyData(configured.ConfigSection, endpoint.Key), ListenOptionsOpenSslExtensions.UnavailableReason);
                }
            });
        }

        // Kestrel binds these with its default certificate in internal code, after every public hook has run.
        var urls = options.ApplicationServices?.GetService<IConfiguration>()?[WebHostDefaults.ServerUrlsKey];
        foreach (var url in urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
        {
            if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                OpenSslTlsLog.EndpointStaysOnSslStream(logger, url, "https URLs from --urls or ASPNETCORE_URLS are bound by Kestrel's internal code (configure the endpoint under Kestrel:Endpoints to serve it with the layer)");
            }
        }

        return options;
    }

    /// <summary>The endpoint's own <c>EarlyData</c> setting, or null where it has none and the app's applies.</summary>
    private static bool? EarlyData(IConfigurationSection endpoint, string name)
    {
        var value = endpoint["EarlyData"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return bool.TryParse(value, out var earlyData)
            ? earlyData
            : throw new InvalidOperationException($"Kestrel:Endpoints:{name}:EarlyData must be true or false, but is '{value}'.");
    }
}
