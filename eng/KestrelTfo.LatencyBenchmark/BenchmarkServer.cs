using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.NetEmu;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The same minimal app on Kestrel, with its default socket transport or with KestrelTfo, listening on one address
/// for HTTP/1.1, HTTPS (TLS 1.3 only; on SslStream, and on KestrelTfo's OpenSSL layer, on KestrelTfo also with early
/// data) and gRPC (HTTP/2 over TLS 1.3).
/// </summary>
internal sealed class BenchmarkServer : IAsyncDisposable
{
    private static readonly byte[] s_body = "hello\n"u8.ToArray();

    private readonly WebApplication _app;
    private readonly IPEndPoint? _httpsOpenSslEarlyData;

    private BenchmarkServer(WebApplication app, IPEndPoint http, IPEndPoint https, IPEndPoint grpc, IPEndPoint httpsOpenSsl, IPEndPoint? httpsOpenSslEarlyData)
    {
        _app = app;
        Http = http;
        Https = https;
        Grpc = grpc;
        HttpsOpenSsl = httpsOpenSsl;
        _httpsOpenSslEarlyData = httpsOpenSslEarlyData;
    }

    public IPEndPoint Http { get; }

    public IPEndPoint Https { get; }

    public IPEndPoint Grpc { get; }

    public IPEndPoint HttpsOpenSsl { get; }

    /// <summary>HTTPS on the OpenSSL layer with early data: KestrelTfo only, whose request guard early data needs.</summary>
    public IPEndPoint HttpsOpenSslEarlyData => _httpsOpenSslEarlyData ?? throw new InvalidOperationException("Kestrel's default transport has no request guard, so it serves no early data.");

    /// <summary>The endpoint that speaks <paramref name="protocol"/>.</summary>
    public IPEndPoint For(BenchmarkProtocol protocol) => protocol switch
    {
        BenchmarkProtocol.Http1 => Http,
        BenchmarkProtocol.Https => Https,
        BenchmarkProtocol.HttpsOpenSsl => HttpsOpenSsl,
        BenchmarkProtocol.HttpsOpenSslEarlyData => HttpsOpenSslEarlyData,
        _ => Grpc,
    };

    /// <param name="address">Where to listen.</param>
    /// <param name="transport">Which transport, and for KestrelTfo which early-data policy.</param>
    /// <param name="certificate">The HTTPS and gRPC endpoints' certificate.</param>
    /// <param name="behind">A link whose server side is another namespace than this process's (a backend behind a
    /// proxy), to listen there; <see langword="null"/> to listen in this process's.</param>
    public static async Task<BenchmarkServer> StartAsync(IPAddress address, BenchmarkTransport transport, X509Certificate2 certificate, EmulatedLink? behind = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        builder.Services.AddGrpc();
        if (transport == BenchmarkTransport.Default)
        {
            if (behind is not null)
            {
                builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket =
                    endPoint => behind.RunInServerNamespace(() => SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint)));
            }
        }
        else
        {
            builder.WebHost.UseFastOpenTransport(options =>
            {
                options.RequireFastOpen = true;
                options.EarlyDataPolicy = transport == BenchmarkTransport.FastOpenDefer ? EarlyDataPolicy.Defer : EarlyDataPolicy.Flag;
                if (behind is not null)
                {
                    options.CreateBoundListenSocket = endPoint => behind.RunInServerNamespace(() => FastOpenTransportOptions.CreateDefaultBoundListenSocket(endPoint));
                }
            });
        }

        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(address, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(address, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseHttps(certificate, https => https.SslProtocols = SslProtocols.Tls13);
            });
            kestrel.Listen(address, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(certificate, https => https.SslProtocols = SslProtocols.Tls13);
            });
            kestrel.Listen(address, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseOpenSslHttps(https =>
                {
                    https.ServerCertificate = certificate;
                    https.SslProtocols = SslProtocols.Tls13;
                });
            });
            if (transport != BenchmarkTransport.Default)
            {
                kestrel.Listen(address, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.UseOpenSslHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, SslProtocols = SslProtocols.Tls13 }, earlyData: true);
                });
            }
        });

        var app = builder.Build();
        // A Content-Length response, so the first response byte comes in the only segment of the response: a
        // chunked one would send its terminator right behind it (see TimeSplit).
        app.MapGet("/", Hello);
        // The same answer to a POST, which the server holds until the handshake completes when it comes as early data.
        app.MapPost("/", Hello);
        app.MapGrpcService<PingService>();
        await app.StartAsync().ConfigureAwait(false);

        // In the order the listeners were added: HTTP/1.1, HTTPS, gRPC, HTTPS on the OpenSSL layer, the same with early data.
        var endPoints = BoundEndPoints.Of(app);
        return new BenchmarkServer(app, endPoints[0], endPoints[1], endPoints[2], endPoints[3], endPoints.ElementAtOrDefault(4));
    }

    private static Task Hello(HttpResponse response)
    {
        response.ContentType = "text/plain";
        response.ContentLength = s_body.Length;
        return response.Body.WriteAsync(s_body).AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
