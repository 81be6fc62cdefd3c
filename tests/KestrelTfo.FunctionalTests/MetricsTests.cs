using System.Diagnostics.Metrics;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

public sealed class MetricsTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Every_instrument_moves_as_connections_arrive()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        var port = app.EndPoint.Port;
        var address = app.Address.ToString();
        var post = RawHttp.Post("/transfer");

        await RawHttp.ExchangeAsync(app.EndPoint, post, fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(app.EndPoint, post, fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(app.EndPoint, post, fastOpen: false, Timeout);
        metrics.Observe();

        (string, object)[] listener = [("server.address", address), ("server.port", port), ("network.type", "ipv4")];
        Assert.Equal(2, metrics.Sum("kestreltfo.connections", [.. listener, ("kestreltfo.fast_open", false)]));
        Assert.Equal(1, metrics.Sum("kestreltfo.connections", [.. listener, ("kestreltfo.fast_open", true)]));
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.connections", [.. listener, ("kestreltfo.early_data.kind", "http")]));
        Assert.Equal(post.Length, metrics.Sum("kestreltfo.early_data.bytes", [.. listener, ("kestreltfo.early_data.kind", "http")]));
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", [.. listener, ("kestreltfo.early_data.action", "flagged")]));
        Assert.Equal(1, metrics.Sum("kestreltfo.listener.fast_open", listener));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag", "flagged")]
    [InlineData("Defer", "kernel_deferred")]
    [InlineData("Reject", "kernel_deferred")]
    public async Task Guard_actions_are_counted(string policy, string action)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);

        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", action)));
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard"));
        Assert.Equal(1, metrics.Sum("kestreltfo.connections", ("kestreltfo.fast_open", true)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_ClientHello_is_counted_by_kind_and_not_guarded()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Reject" });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        byte[] hello = [.. ClientHelloCorpus.Read("sslstream-tls13.bin")];

        await RawHttp.ExchangeAsync(app.EndPoint, hello, fastOpen: true, Timeout);
        await RawHttp.ExchangeAsync(app.EndPoint, hello, fastOpen: true, Timeout);

        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.connections", ("kestreltfo.early_data.kind", "tls_client_hello")));
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.guard"));
    }
}
