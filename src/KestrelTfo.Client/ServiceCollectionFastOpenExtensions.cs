using KestrelTfo.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a <see cref="FastOpenConnector"/> for handlers an app builds itself, outside <c>IHttpClientFactory</c>:
/// a reverse proxy's forwarding clients, gRPC channels.
/// </summary>
public static class ServiceCollectionFastOpenExtensions
{
    /// <summary>
    /// Registers one <see cref="FastOpenConnector"/> singleton that logs to the host's <c>ILoggerFactory</c> and records
    /// its metrics (<see cref="FastOpenClientMetrics"/>) on the host's <c>IMeterFactory</c>. Resolve it and pass it to
    /// <c>SocketsHttpHandler.UseFastOpen(connector)</c> for every handler that should connect with TCP Fast Open; one
    /// connector serves them all, so a warning that TCP Fast Open is unavailable appears once. Its options are the
    /// unnamed <see cref="FastOpenConnectOptions"/>, so <c>services.Configure&lt;FastOpenConnectOptions&gt;(...)</c> also
    /// reaches them, until the connector is first resolved.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configureOptions">Configures the connector; defaults apply when <see langword="null"/>.</param>
    /// <returns>The same <paramref name="services"/>.</returns>
    public static IServiceCollection AddFastOpenConnector(this IServiceCollection services, Action<FastOpenConnectOptions>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<FastOpenConnectOptions>();
        if (configureOptions is not null)
        {
            options.Configure(configureOptions);
        }

        services.TryAddSingleton(static services => FastOpenConnector.FromServices(services, Options.Options.DefaultName));
        return services;
    }
}
