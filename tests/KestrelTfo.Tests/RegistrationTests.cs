using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public void WebApplication_builder_asks_this_transport_first_and_keeps_Kestrel_sockets()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseFastOpenTransport();
        using var app = builder.Build();

        var factories = app.Services.GetServices<IConnectionListenerFactory>().ToList();

        // Kestrel tries factories last-registered first.
        Assert.IsType<FastOpenTransportFactory>(factories[^1]);
        Assert.Contains(factories, f => f is SocketTransportFactory);
    }

    [Fact]
    public void Generic_host_works_whichever_order_UseKestrel_comes_in()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureWebHost(web => web.UseFastOpenTransport().UseKestrel().Configure(_ => { }))
            .Build();

        var factories = host.Services.GetServices<IConnectionListenerFactory>().ToList();

        Assert.Equal(2, factories.Count);
        Assert.IsType<SocketTransportFactory>(factories[0]);
        Assert.IsType<FastOpenTransportFactory>(factories[1]);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_app_without_routing_services_starts_and_serves_with_the_early_data_guard_in_front()
    {
        // The guard asks the app's routing about requests that may be replays; an app with no routing has none to ask.
        using var host = new HostBuilder()
            .ConfigureWebHost(web => web
                .UseFastOpenTransport()
                .UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0))
                .Configure(app => app.Run(context => context.Response.WriteAsync("served", context.RequestAborted))))
            .Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var address = host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single();
            using var client = new HttpClient();
            Assert.Equal("served", await client.GetStringAsync(address, TestContext.Current.CancellationToken));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void Calling_it_twice_registers_one_transport_and_applies_both_delegates()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseFastOpenTransport(o => o.QueueLength = 5).UseFastOpenTransport(o => o.Backlog = 7);
        using var app = builder.Build();

        Assert.Single(app.Services.GetServices<IConnectionListenerFactory>(), f => f is FastOpenTransportFactory);
        var options = app.Services.GetRequiredService<IOptions<FastOpenTransportOptions>>().Value;
        Assert.Equal(5, options.QueueLength);
        Assert.Equal(7, options.Backlog);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Claims_IP_endpoints_only()
    {
        var factory = new FastOpenTransportFactory(Options.Create(new FastOpenTransportOptions()), NullLoggerFactory.Instance);

        Assert.True(factory.CanBind(new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.True(factory.CanBind(new IPEndPoint(IPAddress.IPv6Any, 0)));
        Assert.False(factory.CanBind(new UnixDomainSocketEndPoint("/tmp/x.sock")));
        Assert.False(factory.CanBind(new DnsEndPoint("localhost", 80)));
        await Assert.ThrowsAsync<NotSupportedException>(
            () => factory.BindAsync(new UnixDomainSocketEndPoint("/tmp/x.sock"), TestContext.Current.CancellationToken).AsTask());
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => WebHostBuilderFastOpenExtensions.UseFastOpenTransport(null!));
        Assert.Throws<ArgumentNullException>(() => WebApplication.CreateSlimBuilder().WebHost.UseFastOpenTransport(null!));
    }
}
