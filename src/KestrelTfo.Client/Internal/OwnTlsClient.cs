using System.Net.Http;
using System.Net.Security;
using System.Runtime.Versioning;
using KestrelTfo.OpenSsl.Client;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// The client's own TLS for one <see cref="FastOpenHttpsHandler"/>: its sessions (a bounded store, each ticket used
/// once, named by server and ALPN protocol), and a SocketsHttpHandler of its own that speaks HTTP/1.1 over connections
/// this TLS opens. That handler is set as the caller's is for everything that applies to such a connection; it follows
/// no redirects and keeps no cookies (the <see cref="FastOpenHttpsHandler"/> does both with the request's real URI),
/// and uses no proxy (a request that would is not sent here).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OwnTlsClient : IDisposable
{
    private readonly OpenSslClientContext _context;
    private readonly SocketsHttpHandler _handler;
    private readonly HttpMessageInvoker _invoker;

    public OwnTlsClient(SocketsHttpHandler settings, FastOpenConnector connector, object validationSender)
    {
        var check = new ServerCertificateCheck(settings.SslOptions, validationSender);
#pragma warning disable CA5398 // Follows the caller's choice of protocols.
        var tls13Only = settings.SslOptions.EnabledSslProtocols == System.Security.Authentication.SslProtocols.Tls13;
#pragma warning restore CA5398
        _context = new OpenSslClientContext([SslApplicationProtocol.Http11], check.Validate, connector.Options.TlsSessionCacheSize, tls13Only);
        var dialer = new FastOpenTlsDialer(connector.Dialer, _context, check);
        var connectTimeout = connector.ConnectTimeout(settings.ConnectTimeout);
        _handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = settings.AutomaticDecompression,
            ConnectTimeout = settings.ConnectTimeout,
            Expect100ContinueTimeout = settings.Expect100ContinueTimeout,
            MaxConnectionsPerServer = settings.MaxConnectionsPerServer,
            MaxResponseDrainSize = settings.MaxResponseDrainSize,
            MaxResponseHeadersLength = settings.MaxResponseHeadersLength,
            PooledConnectionIdleTimeout = settings.PooledConnectionIdleTimeout,
            PooledConnectionLifetime = settings.PooledConnectionLifetime,
            ResponseDrainTimeout = settings.ResponseDrainTimeout,
            RequestHeaderEncodingSelector = settings.RequestHeaderEncodingSelector,
            ResponseHeaderEncodingSelector = settings.ResponseHeaderEncodingSelector,
            ActivityHeadersPropagator = settings.ActivityHeadersPropagator,
            MeterFactory = settings.MeterFactory,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var endPoint = context.DnsEndPoint;
                var addresses = await FastOpenConnector.ResolveAsync(endPoint, cancellationToken).ConfigureAwait(false);
                var hostName = endPoint.Host.Trim('[', ']');
                return new FastOpenStream(
                    (firstWrite, connect) => dialer.OpenAsync(hostName, addresses, endPoint.Port, firstWrite, connect),
                    endPoint,
                    connectTimeout,
                    connector.Dialer.Time);
            },
        };
        _invoker = new HttpMessageInvoker(_handler, disposeHandler: true);
    }

    /// <summary>How many sessions the store holds now.</summary>
    public int StoredSessions => _context.Sessions.Count;

    /// <summary>Sends a request whose URI this client's caller has made plaintext; its connection is this TLS.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _invoker.SendAsync(request, cancellationToken);

    public void Dispose()
    {
        _invoker.Dispose();
        _context.Dispose();
    }
}
