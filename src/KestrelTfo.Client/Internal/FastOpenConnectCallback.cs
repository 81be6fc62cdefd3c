using System.Net.Http;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// The <see cref="SocketsHttpHandler.ConnectCallback"/> <c>UseFastOpen</c> installs: a type of its own, so that
/// <see cref="FastOpenHttpsHandler"/> can tell it from a callback of the caller's (an egress guard, a Unix socket), which
/// its own TLS must not bypass.
/// </summary>
/// <param name="connector">The connector.</param>
/// <param name="handler">The handler, whose connect timeout is read at each connect: it may be set after <c>UseFastOpen</c>.</param>
internal sealed class FastOpenConnectCallback(FastOpenConnector connector, SocketsHttpHandler handler)
{
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        connector.ConnectAsync(context.DnsEndPoint, handler.ConnectTimeout, cancellationToken);
}
