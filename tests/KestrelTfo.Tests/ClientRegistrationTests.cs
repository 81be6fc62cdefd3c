using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Tests;

public sealed class ClientRegistrationTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UseFastOpen_opens_the_handlers_connections_through_the_connector()
    {
        var collector = new FakeLogCollector();
        using var logging = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(collector)).SetMinimumLevel(LogLevel.Debug));
        using var handler = new SocketsHttpHandler().UseFastOpen(loggerFactory: logging);
        using var client = new HttpClient(handler);

        Assert.Equal("GET /one HTTP/1.1", await OneRequestAsync(client, "/one"));

        // The connector says how it opened each connection; a handler's own connect would say nothing.
        Assert.Equal(1, ConnectionsOpened(collector));
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
        _ = new FastOpenConnector(new FastOpenConnectOptions { ConnectTimeout = System.Threading.Timeout.InfiniteTimeSpan });
    }

    [Fact]
    public async Task HttpClientFactory_clients_with_UseFastOpen_connect_through_the_connector_with_their_own_options_and_others_do_not()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
        services.AddHttpClient("api").UseFastOpen(o => o.FallbackDelay = TimeSpan.FromMilliseconds(250));
        services.AddHttpClient("other");
        using var provider = services.BuildServiceProvider();
        var clients = provider.GetRequiredService<IHttpClientFactory>();
        var collector = provider.GetFakeLogCollector();

        using (var other = clients.CreateClient("other"))
        {
            Assert.Equal("GET /other HTTP/1.1", await OneRequestAsync(other, "/other"));
        }

        Assert.Equal(0, ConnectionsOpened(collector));
        using (var api = clients.CreateClient("api"))
        {
            Assert.Equal("GET /api HTTP/1.1", await OneRequestAsync(api, "/api"));
        }

        Assert.Equal(1, ConnectionsOpened(collector));
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

        // A second UseFastOpen would have met the first one's callback and thrown, as on a bare handler.
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

    /// <summary>How many connections the connector logged as opened, with TCP Fast Open or without.</summary>
    private static int ConnectionsOpened(FakeLogCollector collector)
    {
        var fastOpen = LogEvents.Client(nameof(FastOpenClientLog.FastOpenConnected)).Id;
        var normal = LogEvents.Client(nameof(FastOpenClientLog.ConnectedNormally)).Id;
        return collector.GetSnapshot().Count(r => r.Category == FastOpenClientLog.Category && (r.Id.Id == fastOpen || r.Id.Id == normal));
    }

    /// <summary>Sends one GET to a loopback server that answers it and closes; returns the request line the server got.</summary>
    private static async Task<string> OneRequestAsync(HttpClient client, string path)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var server = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptAsync(Timeout);
            var head = new StringBuilder();
            var buffer = new byte[1024];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await accepted.ReceiveAsync(buffer, SocketFlags.None, Timeout);
                Assert.True(read > 0, $"the client closed after {head}");
                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            await accepted.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), SocketFlags.None, Timeout);
            return head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)];
        }, Timeout);

        Assert.Equal("ok", await client.GetStringAsync(new Uri($"http://{listener.LocalEndPoint}{path}"), Timeout));
        return await server;
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
