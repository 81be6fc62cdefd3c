using System.Net.Http;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Extensions that make an <c>IHttpClientFactory</c> client open its connections with TCP Fast Open.
/// </summary>
public static class HttpClientBuilderFastOpenExtensions
{
    /// <summary>
    /// Makes the client's primary handler a <see cref="SocketsHttpHandler"/> (keeping one already configured) whose
    /// new connections open with TCP Fast Open. Options are named after the client, so
    /// <c>services.Configure&lt;FastOpenConnectOptions&gt;(name, ...)</c> also reaches them. One connector serves
    /// every handler the factory creates for the client, so a warning that TCP Fast Open is unavailable appears once. Its
    /// metrics (<see cref="KestrelTfo.Client.FastOpenClientMetrics"/>) are on the host's meter factory, and its
    /// <see cref="FastOpenConnectOptions.FallbackDelay"/> and connect timeout run on the host's <see cref="TimeProvider"/> when
    /// one is registered. With <see cref="FastOpenConnectOptions.TlsEarlyData"/> on, a <see cref="FastOpenHttpsHandler"/>
    /// goes in front of the primary handler, after all of the client's own configuration.
    /// </summary>
    /// <param name="builder">The client's builder, from <c>AddHttpClient</c>.</param>
    /// <param name="configureOptions">Configures the connector; defaults apply when <see langword="null"/>.</param>
    /// <returns>The same <paramref name="builder"/>.</returns>
    public static IHttpClientBuilder UseFastOpen(this IHttpClientBuilder builder, Action<FastOpenConnectOptions>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name ?? Options.Options.DefaultName;
        if (configureOptions is not null)
        {
            builder.Services.Configure(name, configureOptions);
        }

        var key = new FastOpenConnectorKey(name);
        if (builder.Services.Any(service => Equals(service.ServiceKey, key)))
        {
            return builder;
        }

        builder.Services.TryAddKeyedSingleton(key, static (services, key) => FastOpenConnector.FromServices(services, ((FastOpenConnectorKey)key!).Name));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, FastOpenHttpsHandlerFilter>());
        return builder.UseSocketsHttpHandler((handler, services) => handler.UseFastOpen(services.GetRequiredKeyedService<FastOpenConnector>(key)));
    }
}
