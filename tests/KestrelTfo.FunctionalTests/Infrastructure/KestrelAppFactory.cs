using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Hosts an app on real Kestrel (not TestServer) on a loopback address of its own, with its logs collected
/// and optional configuration settings, so tests drive it over real sockets.
/// </summary>
internal sealed class KestrelAppFactory<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IWebHostBuilder>? _configure;

    public KestrelAppFactory(
        Dictionary<string, string?>? settings = null,
        Action<KestrelServerOptions>? listen = null,
        Action<IWebHostBuilder>? configure = null)
    {
        _settings = settings ?? [];
        _configure = configure;
        Address = Loopback.NextAddress();
        UseKestrel(options =>
        {
            if (listen is null)
            {
                options.Listen(Address, 0);
            }
            else
            {
                listen(options);
            }
        });
    }

    public IPAddress Address { get; }

    public LogCollector Logs { get; } = new();

    /// <summary>The server's first TCP endpoint, with the port Kestrel picked; starts the server.</summary>
    public IPEndPoint EndPoint => EndPoints[0];

    /// <summary>The server's TCP endpoints, with the ports Kestrel picked; starts the server.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints
    {
        get
        {
            StartServer();
            return ServerEndPoints.Of(Services);
        }
    }

    /// <summary>The app's TCP Fast Open transport; starts the server.</summary>
    public FastOpenTransportFactory Transport
    {
        get
        {
            StartServer();
            return Services.GetServices<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>().OfType<FastOpenTransportFactory>().Single();
        }
    }

    /// <summary>An HttpClient for the TCP endpoint that this factory does not own, so it outlives the host's shutdown.</summary>
    public HttpClient CreateIndependentClient() => new() { BaseAddress = new Uri($"http://{EndPoint}") };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.ClearProviders().AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        _configure?.Invoke(builder);
    }
}
