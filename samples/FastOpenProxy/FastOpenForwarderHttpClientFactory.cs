using KestrelTfo.Client;
using Yarp.ReverseProxy.Forwarder;

/// <summary>
/// YARP's forwarding clients, each connecting through the app's one <see cref="FastOpenConnector"/>, and with its
/// <see cref="FastOpenConnectOptions.TlsEarlyData"/> on sending to <c>https</c> destinations over the client's own TLS
/// with TLS 1.3 early data (<see cref="FastOpenHttpsHandler"/>). YARP's own
/// <c>ConfigureHttpClient((context, handler) =&gt; handler.UseFastOpen())</c> works too, but its callback cannot reach
/// the app's services, so each cluster's client would get a connector of its own that logs nowhere (a warning that TCP
/// Fast Open is unavailable would be lost) and records on a meter outside the host's meter factory; nor can it wrap the
/// handler.
/// </summary>
internal sealed class FastOpenForwarderHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, FastOpenConnector connector)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.UseFastOpen(connector);
    }

    // The handler passes every request through while the connector's TlsEarlyData is off, so it goes in either way.
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        base.WrapHandler(context, handler is SocketsHttpHandler sockets ? new FastOpenHttpsHandler(sockets, connector) : handler);
}
