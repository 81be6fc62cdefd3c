using System.Net.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Puts a <see cref="FastOpenHttpsHandler"/> in front of the primary handler of every <c>IHttpClientFactory</c> client
/// whose <c>UseFastOpen</c> options turn <see cref="FastOpenConnectOptions.TlsEarlyData"/> on. A filter, because it runs
/// after all of the client's own configuration: a later <c>UseSocketsHttpHandler</c> or
/// <c>ConfigurePrimaryHttpMessageHandler</c> would otherwise replace the wrapper or not find its SocketsHttpHandler.
/// </summary>
internal sealed class FastOpenHttpsHandlerFilter : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        var key = new FastOpenConnectorKey(builder.Name ?? Microsoft.Extensions.Options.Options.DefaultName);
        if (builder.PrimaryHandler is SocketsHttpHandler handler
            && builder.Services.GetKeyedService<FastOpenConnector>(key) is { Options.TlsEarlyData: true } connector)
        {
            builder.PrimaryHandler = new FastOpenHttpsHandler(handler, connector);
        }
    };
}
