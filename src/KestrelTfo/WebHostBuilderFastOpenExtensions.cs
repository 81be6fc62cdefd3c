using KestrelTfo;
using KestrelTfo.Internal;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// Extensions that put Kestrel's IP endpoints on the TCP Fast Open transport.
/// </summary>
public static class WebHostBuilderFastOpenExtensions
{
    /// <summary>
    /// Serves Kestrel's IP endpoints from listeners with TCP Fast Open, configured from the
    /// <c>Kestrel:FastOpen</c> configuration section. Unix domain sockets, named pipes, file handles and
    /// HTTP/3 stay on Kestrel's own transports.
    /// </summary>
    /// <param name="hostBuilder">The web host builder, for example <c>WebApplicationBuilder.WebHost</c>.</param>
    /// <returns>The same <paramref name="hostBuilder"/>.</returns>
    public static IWebHostBuilder UseFastOpenTransport(this IWebHostBuilder hostBuilder) =>
        hostBuilder.UseFastOpenTransport(static _ => { });

    /// <summary>
    /// Serves Kestrel's IP endpoints from listeners with TCP Fast Open. Options are bound from the
    /// <c>Kestrel:FastOpen</c> configuration section first, then <paramref name="configureOptions"/> runs,
    /// so code overrides configuration. Invalid values fail start-up with a message that names the setting.
    /// </summary>
    /// <param name="hostBuilder">The web host builder, for example <c>WebApplicationBuilder.WebHost</c>.</param>
    /// <param name="configureOptions">Configures the transport.</param>
    /// <returns>The same <paramref name="hostBuilder"/>.</returns>
    public static IWebHostBuilder UseFastOpenTransport(this IWebHostBuilder hostBuilder, Action<FastOpenTransportOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        ArgumentNullException.ThrowIfNull(configureOptions);

        // Kestrel's socket transport must stay registered for the endpoints this one does not claim,
        // whether UseKestrel ran before this call or runs after it.
        hostBuilder.UseSockets();

        return hostBuilder.ConfigureServices((context, services) =>
        {
            if (!services.Any(static d => d.ImplementationType == typeof(FastOpenTransportOptionsValidator)))
            {
                // No ValidateOnStart: it would create an IOptionsMonitor, which throws on the reload thread when a
                // reloaded value is invalid. The factory validates when Kestrel creates it, which is at start-up,
                // and handles reloads itself.
                services.AddOptions<FastOpenTransportOptions>()
                    .Bind(context.Configuration.GetSection(FastOpenTransportOptions.ConfigurationSectionName));
                services.AddSingleton<IValidateOptions<FastOpenTransportOptions>, FastOpenTransportOptionsValidator>();
                services.AddTransient<IStartupFilter, FastOpenTagsStartupFilter>();
                services.AddTransient<IStartupFilter, EarlyDataRequestStartupFilter>();
                services.AddSingleton<KestrelTfo.EarlyData.EarlyDataRouting>();

                // The TLS layer's ticket keys, which the transport's reloads rotate (UseOpenSslHttps finds them here).
                services.AddSingleton(static provider => new KestrelTfo.Tls.TicketKeyRing(
                    provider.GetRequiredService<IOptions<FastOpenTransportOptions>>().Value,
                    provider.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>()));

                // Kestrel asks the last registered factory first, so this one is asked before the socket transport.
                services.AddSingleton<IConnectionListenerFactory>(static provider => new FastOpenTransportFactory(
                    provider.GetRequiredService<IOptions<FastOpenTransportOptions>>(),
                    provider.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(),
                    (provider.GetRequiredService<IOptionsFactory<FastOpenTransportOptions>>(), provider.GetServices<IOptionsChangeTokenSource<FastOpenTransportOptions>>()),
                    provider.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
                    provider.GetService<TimeProvider>() ?? TimeProvider.System,
                    ticketKeys: provider.GetRequiredService<KestrelTfo.Tls.TicketKeyRing>()));
            }

            services.Configure(configureOptions);
        });
    }
}
