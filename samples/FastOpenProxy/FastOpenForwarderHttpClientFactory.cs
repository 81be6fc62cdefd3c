using KestrelTfo.Client;
using Yarp.ReverseProxy.Forwarder;

/// <summary>
/// YARP's forwarding clients, each connecting through the app's one <see cref="FastOpenConnector"/>. YARP's own
/// <c>ConfigureHttpClient((context, handler) =&gt; handler.UseFastOpen())</c> works too, but its callback cannot reach
/// the app's services, so each cluster's client would get a connector of its own that logs nowhere (a warning that TCP
/// Fast Open is unavailable would be lost) and records on a meter outside the host's meter factory.
/// </summary>
internal sealed class FastOpenForwarderHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, FastOpenConnector connector)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.UseFastOpen(connector);
    }
}
