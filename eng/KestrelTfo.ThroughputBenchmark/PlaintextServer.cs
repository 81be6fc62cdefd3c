using System.Net;
using KestrelTfo.LatencyBenchmark;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>
/// The app under test, identical for every transport: Kestrel with HTTP/1.1 on one loopback address and a terminal
/// middleware that writes a 13-byte plaintext body, so the transport and Kestrel's HTTP parser are most of the work.
/// </summary>
internal sealed class PlaintextServer : IAsyncDisposable
{
    private static readonly byte[] Body = "Hello, World!"u8.ToArray();
    private readonly WebApplication _app;
    private long _requests;

    private PlaintextServer(WebApplication app, ServerKind kind)
    {
        _app = app;
        Kind = kind;
    }

    public ServerKind Kind { get; }

    public IPEndPoint EndPoint { get; private set; } = null!;

    /// <summary>Requests answered so far; with <c>Connection: close</c>, also connections served.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    public static async Task<PlaintextServer> StartAsync(IPAddress address, ServerKind kind)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Nothing is logged in the measured path: both transports log only warnings and errors, to nowhere.
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        if (kind != ServerKind.Default)
        {
            builder.WebHost.UseFastOpenTransport(options =>
            {
                options.RequireFastOpen = true;
                options.EarlyDataPolicy = kind == ServerKind.FastOpenDefer ? EarlyDataPolicy.Defer : EarlyDataPolicy.Flag;
            });
        }

        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, 0, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        var server = new PlaintextServer(app, kind);
        app.Run(context =>
        {
            Interlocked.Increment(ref server._requests);
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = Body.Length;
            return context.Response.Body.WriteAsync(Body).AsTask();
        });
        await app.StartAsync().ConfigureAwait(false);

        var uri = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        server.EndPoint = new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
