using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using KestrelTfo.NetEmu;
using KestrelTfo.Platform;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// A burst of new connections from many clients, larger than the listener's TCP Fast Open queue, over a link with a
/// real round trip, so that every handshake waits while the burst arrives. Counts the kernel's overflows exactly, so it
/// runs alone.
/// </summary>
[Collection(nameof(KernelCounterTests))]
public sealed class FullQueueTests
{
    private const int QueueLength = 8;
    private const int Clients = 5;
    private const int PerClient = 8;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_burst_beyond_the_queue_falls_back_cleanly_is_said_once_and_counted_since_the_app_started()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions().WithRoundTripTime(TimeSpan.FromMilliseconds(100)));
        var clients = new List<IPAddress>();
        for (var i = 0; i < Clients; i++)
        {
            clients.Add(await LinkClients.AddAddressAsync(link, Timeout));
        }

        await using var app = new KestrelAppFactory<Program>(
            new() { ["Kestrel:FastOpen:QueueLength"] = QueueLength.ToString(CultureInfo.InvariantCulture) },
            listen: o => o.Listen(link.ServerAddress, 0));
        var server = app.EndPoint;
        foreach (var client in clients)
        {
            await RawHttp.SendAsync(server, RawHttp.Request("/tfo"), Timeout, createSocket: () => LinkClients.SocketFrom(link, client));
        }

        // The namespace's counter has a past (earlier tests); the instrument starts at the app's start.
        Assert.Equal(0, Overflows(app));

        var first = await BurstAsync(link, server, clients);
        var second = await BurstAsync(link, server, clients);

        foreach (var (tfo, fellBack) in new[] { first, second })
        {
            // No more connections waited with TFO than the queue holds; every other one fell back and was served.
            Assert.InRange(tfo, 1, QueueLength);
            Assert.Equal(Clients * PerClient, tfo + fellBack);
        }

        // Each SYN that found the queue full is one overflow, and nothing else overflowed.
        Assert.Equal(first.FellBack + second.FellBack, Overflows(app));

        // Said once for both bursts (at most once a minute), naming the listener and the option.
        var warning = Assert.Single(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.QueueFull));
        Assert.Contains(server.ToString(), warning.Message, StringComparison.Ordinal);
        Assert.Contains($"QueueLength {QueueLength}", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Kestrel:FastOpen:QueueLength", warning.Message, StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"bursts: {first}, {second}; {warning.Message}");
    }

    private static async Task<(int Tfo, int FellBack)> BurstAsync(EmulatedLink link, IPEndPoint server, List<IPAddress> clients)
    {
        var exchanges = await Task.WhenAll(
            clients.SelectMany(client => Enumerable.Range(0, PerClient).Select(_ =>
                RawHttp.SendAsync(server, RawHttp.Request("/tfo"), Timeout, createSocket: () => LinkClients.SocketFrom(link, client)))));
        Assert.All(exchanges, e => Assert.Contains("\"hasFeature\":true", e.Response, StringComparison.Ordinal));
        var tfo = exchanges.Count(e => e.Response.Contains("\"isFastOpen\":true", StringComparison.Ordinal));
        return (tfo, exchanges.Length - tfo);
    }

    private static long Overflows(KestrelAppFactory<Program> app)
    {
        // A collector of its own: an observable counter reports its whole value at each observation.
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        metrics.Observe();
        return metrics.Sum("kestreltfo.kernel.events", ("kestreltfo.kernel.counter", TcpFastOpenCounters.KernelName(TcpFastOpenCounter.ListenOverflow)));
    }
}
