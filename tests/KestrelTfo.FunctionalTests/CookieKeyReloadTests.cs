using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// Cookie keys that change by configuration reload, at the transport itself: between listeners (as when Kestrel rebinds
/// an endpoint) and through a reload that throws.
/// </summary>
public sealed class CookieKeyReloadTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Keys_changed_while_no_listener_is_bound_reach_the_listener_bound_next()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var scene = new Scene(TestKeys.A);
        await using (await scene.Factory.BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), Timeout))
        {
        }

        scene.Configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B });
        await using var next = await scene.Factory.BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), Timeout);

        Assert.Equal(TestKeys.B, ListenSockets.CookieKeys(scene.Sockets.Last()));
        var reloaded = Assert.Single(scene.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.CookieKeysReloaded));
        Assert.Contains("to 0 of 0 listener(s)", reloaded.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_key_removed_on_reload_warns_and_the_keys_in_force_stay_on_live_listeners_and_those_bound_next()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var scene = new Scene(TestKeys.A);
        await using var live = await scene.Factory.BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), Timeout);

        scene.Configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = null });
        await using var next = await scene.Factory.BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), Timeout);

        // A listener cannot go back to the kernel's key, and one bound later on the kernel's key would split the fleet's
        // cookies between two keys: both keep key A until a restart.
        Assert.Equal(TestKeys.A, ListenSockets.CookieKeys(scene.Sockets[0]));
        Assert.Equal(TestKeys.A, ListenSockets.CookieKeys(scene.Sockets[1]));
        var removed = Assert.Single(scene.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.CookieKeysRemoved));
        Assert.Equal(LogLevel.Warning, removed.Level);
        Assert.DoesNotContain(scene.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.CookieKeysReloaded));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_reload_that_throws_is_logged_and_the_keys_in_force_stay()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var binds = 0;
        using var scene = new Scene(TestKeys.A, configure: _ =>
        {
            // Anything an app's own configuration code may throw, on the reload thread: not the transport's to pass on.
            if (Interlocked.Increment(ref binds) > 1)
            {
                throw new InvalidDataException("an app's configure delegate that fails on reload");
            }
        });
        await using var listener = await scene.Factory.BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), Timeout);

        scene.Configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B });

        Assert.Equal(TestKeys.A, ListenSockets.CookieKeys(scene.Sockets.Single()));
        var failed = Assert.Single(scene.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.CookieKeysReloadFailed));
        Assert.Equal(LogLevel.Error, failed.Level);
    }

    /// <summary>A transport built as UseFastOpenTransport builds it, from configuration a test reloads.</summary>
    private sealed class Scene : IDisposable
    {
        private readonly ServiceProvider _services;

        public Scene(string key, Action<FastOpenTransportOptions>? configure = null)
        {
            Configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = key });
            var configuration = new ConfigurationBuilder().Add(Configuration).Build();
            var services = new ServiceCollection()
                .AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
            services.AddOptions<FastOpenTransportOptions>().Bind(configuration.GetSection(FastOpenTransportOptions.ConfigurationSectionName));
            services.AddSingleton<IValidateOptions<FastOpenTransportOptions>, FastOpenTransportOptionsValidator>();
            services.Configure<FastOpenTransportOptions>(options =>
            {
                options.CreateBoundListenSocket = endPoint =>
                {
                    var socket = FastOpenTransportOptions.CreateDefaultBoundListenSocket(endPoint);
                    Sockets.Add(socket);
                    return socket;
                };
                configure?.Invoke(options);
            });
            _services = services.BuildServiceProvider();
            Factory = new FastOpenTransportFactory(
                _services.GetRequiredService<IOptions<FastOpenTransportOptions>>(),
                _services.GetRequiredService<ILoggerFactory>(),
                (_services.GetRequiredService<IOptionsFactory<FastOpenTransportOptions>>(), _services.GetServices<IOptionsChangeTokenSource<FastOpenTransportOptions>>()),
                meterFactory: null,
                TimeProvider.System);
        }

        public ReloadableConfigurationSource Configuration { get; } = new();

        public LogCollector Logs { get; } = new();

        public List<System.Net.Sockets.Socket> Sockets { get; } = [];

        public FastOpenTransportFactory Factory { get; }

        public void Dispose()
        {
            Factory.Dispose();
            _services.Dispose();
        }
    }
}
