using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using Microsoft.Extensions.Logging;

namespace System.Net.Http;

/// <summary>
/// Extensions that make a <see cref="SocketsHttpHandler"/> open its connections with TCP Fast Open.
/// </summary>
public static class SocketsHttpHandlerFastOpenExtensions
{
    /// <summary>
    /// Opens the handler's new connections with TCP Fast Open: a TLS ClientHello, or a safe plaintext request, rides in
    /// the SYN once the server has given this machine a cookie. The handler's <see cref="SocketsHttpHandler.ConnectTimeout"/>
    /// applies to the connect, which happens on the first write; the connector's metrics go to the handler's
    /// <see cref="SocketsHttpHandler.MeterFactory"/> as it is set now.
    /// </summary>
    /// <param name="handler">The handler; its <see cref="SocketsHttpHandler.ConnectCallback"/> must not be set yet.</param>
    /// <param name="configureOptions">Configures the connector; defaults apply when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where the connector logs (category <c>KestrelTfo.Client</c>); none when <see langword="null"/>.</param>
    /// <returns>The same <paramref name="handler"/>.</returns>
    public static SocketsHttpHandler UseFastOpen(
        this SocketsHttpHandler handler,
        Action<FastOpenConnectOptions>? configureOptions = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var options = new FastOpenConnectOptions();
        configureOptions?.Invoke(options);
        if (options.TlsEarlyData)
        {
            // The handler is what the caller passes to HttpClient, so nothing could put the early-data handler in front.
            throw new InvalidOperationException(
                $"{nameof(FastOpenConnectOptions.TlsEarlyData)} needs a {nameof(FastOpenHttpsHandler)} in front of the handler: new HttpClient(new {nameof(FastOpenHttpsHandler)}(handler, connector)) with a connector made with it, or IHttpClientFactory's UseFastOpen.");
        }

        return handler.UseFastOpen(new FastOpenConnector(options, loggerFactory, handler.MeterFactory));
    }

    /// <summary>
    /// Opens the handler's new connections through <paramref name="connector"/>, which several handlers may share.
    /// The handler's <see cref="SocketsHttpHandler.ConnectTimeout"/> applies unless the connector's options set one.
    /// </summary>
    /// <param name="handler">The handler; its <see cref="SocketsHttpHandler.ConnectCallback"/> must not be set yet.</param>
    /// <param name="connector">The connector.</param>
    /// <returns>The same <paramref name="handler"/>.</returns>
    public static SocketsHttpHandler UseFastOpen(this SocketsHttpHandler handler, FastOpenConnector connector)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(connector);
        if (handler.ConnectCallback is not null)
        {
            throw new InvalidOperationException(
                "The handler already has a ConnectCallback. UseFastOpen installs its own, so it cannot be combined with another one.");
        }

        handler.ConnectCallback = new FastOpenConnectCallback(connector, handler).ConnectAsync;
        return handler;
    }
}
