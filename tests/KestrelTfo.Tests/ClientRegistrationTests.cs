using KestrelTfo.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Tests;

public sealed class ClientRegistrationTests
{
    [Fact]
    public void UseFastOpen_sets_the_handlers_connect_callback()
    {
        using var handler = new SocketsHttpHandler().UseFastOpen();

        Assert.NotNull(handler.ConnectCallback);
    }

    [Fact]
    public void UseFastOpen_refuses_to_replace_another_connect_callback()
    {
        using var handler = new SocketsHttpHandler { ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(Stream.Null) };

        Assert.Throws<InvalidOperationException>(() => handler.UseFastOpen());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void A_fallback_delay_must_be_positive(int milliseconds) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastOpenConnector(new FastOpenConnectOptions { FallbackDelay = TimeSpan.FromMilliseconds(milliseconds) }));

    [Fact]
    public void A_connect_timeout_must_be_positive_or_infinite()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastOpenConnector(new FastOpenConnectOptions { ConnectTimeout = TimeSpan.Zero }));
        _ = new FastOpenConnector(new FastOpenConnectOptions { ConnectTimeout = Timeout.InfiniteTimeSpan });
    }

    [Fact]
    public void HttpClientFactory_clients_get_a_SocketsHttpHandler_with_the_connect_callback_and_their_own_options()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("api").UseFastOpen(o => o.FallbackDelay = TimeSpan.FromMilliseconds(250));
        services.AddHttpClient("other");
        using var provider = services.BuildServiceProvider();
        var handlers = provider.GetRequiredService<IHttpMessageHandlerFactory>();

        var api = Assert.IsType<SocketsHttpHandler>(Primary(handlers.CreateHandler("api")));
        var other = Primary(handlers.CreateHandler("other"));

        Assert.NotNull(api.ConnectCallback);
        Assert.False(other is SocketsHttpHandler { ConnectCallback: not null });
        var options = provider.GetRequiredService<IOptionsMonitor<FastOpenConnectOptions>>();
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Get("api").FallbackDelay);
        Assert.Null(options.Get("other").FallbackDelay);
    }

    [Fact]
    public void UseFastOpen_twice_on_one_client_keeps_one_connector_and_both_configurations()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("api")
            .UseFastOpen(o => o.SafePlaintextRequests = false)
            .UseFastOpen(o => o.FallbackDelay = TimeSpan.FromSeconds(1));
        using var provider = services.BuildServiceProvider();

        var handler = Assert.IsType<SocketsHttpHandler>(Primary(provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("api")));

        Assert.NotNull(handler.ConnectCallback);
        var options = provider.GetRequiredService<IOptionsMonitor<FastOpenConnectOptions>>().Get("api");
        Assert.False(options.SafePlaintextRequests);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FallbackDelay);
    }

    [Fact]
    public void AddFastOpenConnector_registers_one_connector_built_from_the_unnamed_options()
    {
        var services = new ServiceCollection();
        services.AddFastOpenConnector().AddFastOpenConnector();
        using var provider = services.BuildServiceProvider();

        Assert.Single(services, service => service.ServiceType == typeof(FastOpenConnector));
        Assert.Same(provider.GetRequiredService<FastOpenConnector>(), provider.GetRequiredService<FastOpenConnector>());
    }

    [Fact]
    public void AddFastOpenConnector_options_reach_the_connector()
    {
        var services = new ServiceCollection();
        services.AddFastOpenConnector(o => o.FallbackDelay = TimeSpan.FromSeconds(1));
        services.Configure<FastOpenConnectOptions>(o => o.FallbackDelay = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        // The connector validates its options when it is built: the later Configure made them invalid.
        Assert.Throws<ArgumentOutOfRangeException>(provider.GetRequiredService<FastOpenConnector>);
    }

    private static HttpMessageHandler Primary(HttpMessageHandler handler)
    {
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler!;
        }

        return handler;
    }
}
