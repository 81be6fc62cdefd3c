using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// YARP in process, forwarding every request to one backend over plain HTTP/1.1: on Kestrel's default transport with
/// a plain SocketsHttpHandler, or on KestrelTfo with the handler's connect made TCP Fast Open by <c>UseFastOpen()</c>.
/// It listens for HTTP/1.1 and HTTPS (TLS 1.3), as <see cref="BenchmarkServer"/> does. With early data (on KestrelTfo),
/// it also listens on the TLS layer with TLS 1.3 early data, forwards over https with early data to the backend as the
/// FastOpenProxy sample does (<see cref="EarlyDataForwarderHttpClientFactory"/>), and marks a request that may be a
/// replay with <c>Early-Data: 1</c>, with the sample's own transform.
/// </summary>
/// <remarks>
/// Its forwarder keeps no connection (<c>PooledConnectionLifetime</c> zero), so every request opens a new one to the
/// backend: the rows measure a new connection on each leg, the case TCP Fast Open is for. A pooled proxy pays the
/// backend's handshake once per pooled connection.
/// </remarks>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, IPEndPoint http, IPEndPoint https, IPEndPoint? httpsEarlyData)
    {
        _app = app;
        Http = http;
        Https = https;
        HttpsEarlyData = httpsEarlyData;
    }

    public IPEndPoint Http { get; }

    public IPEndPoint Https { get; }

    /// <summary>HTTPS on the TLS layer with early data; null unless started with it.</summary>
    public IPEndPoint? HttpsEarlyData { get; }

    /// <param name="address">Where to listen.</param>
    /// <param name="fastOpen">KestrelTfo and TCP Fast Open to the backend, or Kestrel's default transport and a plain connect.</param>
    /// <param name="certificate">The HTTPS endpoints' certificate, and the one the backend presents.</param>
    /// <param name="backend">The backend: plain HTTP/1.1, or with <paramref name="earlyData"/> HTTPS with early data.</param>
    /// <param name="earlyData">TLS 1.3 early data on both legs (with <paramref name="fastOpen"/> only).</param>
    public static async Task<ProxyServer> StartAsync(IPAddress address, bool fastOpen, X509Certificate2 certificate, IPEndPoint backend, bool earlyData = false)
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
            if (earlyData)
            {
                kestrel.Listen(address, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.UseOpenSslHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, SslProtocols = SslProtocols.Tls13 }, earlyData: true);
                });
            }
        });

        RouteConfig[] routes = [new() { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**catch-all}" } }];
        ClusterConfig[] clusters =
        [
            new()
            {
                ClusterId = "backend",
                Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = $"{(earlyData ? "https" : "http")}://{backend}/" } },
                HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
            },
        ];
        var proxy = builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
        if (earlyData)
        {
            builder.Services.AddFastOpenConnector(options => options.TlsEarlyData = true);
            builder.Services.AddSingleton<IForwarderHttpClientFactory>(services => ActivatorUtilities.CreateInstance<EarlyDataForwarderHttpClientFactory>(services, certificate));
            proxy.AddTransforms(transforms => transforms.AddRequestTransform(EarlyDataMark.ApplyAsync));
        }
        else
        {
            proxy.ConfigureHttpClient((_, handler) =>
            {
                handler.PooledConnectionLifetime = TimeSpan.Zero;
                if (fastOpen)
                {
                    handler.UseFastOpen();
                }
            });
        }

        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync().ConfigureAwait(false);

        // In the order the listeners were added: HTTP/1.1, HTTPS, then HTTPS with early data.
        var endPoints = BoundEndPoints.Of(app);
        return new ProxyServer(app, endPoints[0], endPoints[1], endPoints.ElementAtOrDefault(2));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
