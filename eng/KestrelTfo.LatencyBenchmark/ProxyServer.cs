using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// YARP in process, forwarding every request to one backend over plain HTTP/1.1: on Kestrel's default transport with
/// a plain SocketsHttpHandler, or on KestrelTfo with the handler's connect made TCP Fast Open by <c>UseFastOpen()</c>.
/// It listens for HTTP/1.1 and HTTPS (TLS 1.3), as <see cref="BenchmarkServer"/> does.
/// </summary>
/// <remarks>
/// Its forwarder keeps no connection (<c>PooledConnectionLifetime</c> zero), so every request opens a new one to the
/// backend: the rows measure a new connection on each leg, the case TCP Fast Open is for. A pooled proxy pays the
/// backend's handshake once per pooled connection.
/// </remarks>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, IPEndPoint http, IPEndPoint https)
    {
        _app = app;
        Http = http;
        Https = https;
    }

    public IPEndPoint Http { get; }

    public IPEndPoint Https { get; }

    public static async Task<ProxyServer> StartAsync(IPAddress address, bool fastOpen, X509Certificate2 certificate, IPEndPoint backend)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        if (fastOpen)
        {
            builder.WebHost.UseFastOpenTransport(options => options.RequireFastOpen = true);
        }

        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(address, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(address, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseHttps(certificate, https => https.SslProtocols = SslProtocols.Tls13);
            });
        });

        RouteConfig[] routes = [new() { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**catch-all}" } }];
        ClusterConfig[] clusters =
        [
            new()
            {
                ClusterId = "backend",
                Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = $"http://{backend}/" } },
                HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
            },
        ];
        builder.Services.AddReverseProxy()
            .LoadFromMemory(routes, clusters)
            .ConfigureHttpClient((_, handler) =>
            {
                handler.PooledConnectionLifetime = TimeSpan.Zero;
                if (fastOpen)
                {
                    handler.UseFastOpen();
                }
            });

        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync().ConfigureAwait(false);

        // In the order the listeners were added: HTTP/1.1, then HTTPS.
        var endPoints = BoundEndPoints.Of(app);
        return new ProxyServer(app, endPoints[0], endPoints[1]);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
