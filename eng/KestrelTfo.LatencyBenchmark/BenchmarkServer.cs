using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The same minimal app on Kestrel, with its default socket transport or with KestrelTfo, listening on one address
/// for HTTP/1.1 and HTTPS (TLS 1.3 only).
/// </summary>
internal sealed class BenchmarkServer : IAsyncDisposable
{
    private static readonly byte[] s_body = "hello\n"u8.ToArray();

    private readonly WebApplication _app;

    private BenchmarkServer(WebApplication app, IPEndPoint http, IPEndPoint https)
    {
        _app = app;
        Http = http;
        Https = https;
    }

    public IPEndPoint Http { get; }

    public IPEndPoint Https { get; }

    public static async Task<BenchmarkServer> StartAsync(IPAddress address, bool fastOpen, X509Certificate2 certificate)
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

        var app = builder.Build();
        // A Content-Length response, so the first response byte comes in the only segment of the response: a
        // chunked one would send its terminator right behind it (see TimeSplit).
        app.MapGet("/", (HttpResponse response) =>
        {
            response.ContentType = "text/plain";
            response.ContentLength = s_body.Length;
            return response.Body.WriteAsync(s_body).AsTask();
        });
        await app.StartAsync().ConfigureAwait(false);

        var endPoints = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(uri => new Uri(uri))
            .ToDictionary(uri => uri.Scheme, uri => new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port));
        return new BenchmarkServer(app, endPoints["http"], endPoints["https"]);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
