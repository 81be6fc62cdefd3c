using KestrelTfo.Fleet;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>
/// TCP Fast Open across three instances of the sample behind one service address, as the kernel's cookie math predicts
/// it: a cookie is <c>siphash(client address ‖ server address as the server sees it)</c> under the listener's key, and a
/// client holds one cookie per service address, replaced by whichever instance last refused it. So a shared key pays
/// wherever every instance sees the service address (ECMP, anycast), and nowhere else but where one client always
/// reaches one instance. Each connection is judged by both ends: the client's kernel counter and the instance's answer.
/// </summary>
[Collection(nameof(FleetTests))]
public sealed class FleetTests
{
    private const int Connections = 60;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_ECMP_with_a_shared_key_every_connection_after_the_cookie_is_fast_open_on_every_instance()
    {
        var probe = await ProbeAsync(FleetBalancer.Ecmp, sharedKeys: true);

        Assert.Equal(Connections, probe.FastOpen);
        // On every instance: each is reached, but for a chance below 3 (2/3)^60, about 10^-10.
        Assert.All(probe.Instances, instance => Assert.Equal((instance.Reached, 0L), (instance.FastOpen, instance.CookieRejected)));
        Assert.All(probe.Instances, instance => Assert.True(instance.FastOpen > 0, $"an instance got no connection: {Describe(probe)}"));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_ECMP_with_a_key_per_instance_a_connection_is_fast_open_only_when_it_reaches_the_instance_the_one_before_reached()
    {
        var probe = await ProbeAsync(FleetBalancer.Ecmp, sharedKeys: false);

        AssertSameInstanceAsBefore(probe);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_random_DNAT_a_shared_key_does_not_help_since_each_instance_sees_its_own_address()
    {
        var probe = await ProbeAsync(FleetBalancer.DnatRandom, sharedKeys: true);

        AssertSameInstanceAsBefore(probe);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_round_robin_DNAT_no_connection_is_fast_open_even_with_a_shared_key()
    {
        var probe = await ProbeAsync(FleetBalancer.DnatRoundRobin, sharedKeys: true);

        Assert.Equal(0, probe.FastOpen);
        // Each in turn: every cookie is offered to the instance after the one that issued it.
        Assert.All(probe.Instances, instance => Assert.Equal((Connections / 3L, 0L), (instance.Reached, instance.FastOpen)));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_DNAT_pinned_by_client_address_every_connection_is_fast_open_even_with_a_key_per_instance()
    {
        var probe = await ProbeAsync(FleetBalancer.DnatClientAddress, sharedKeys: false);

        Assert.Equal(Connections, probe.FastOpen);
        Assert.Equal([Connections, 0, 0], probe.Instances.Select(instance => instance.FastOpen).Order().Reverse());
    }

    /// <summary>
    /// Where each connection reaches an instance at random, it is fast open exactly when it reaches the instance the one
    /// before reached (whose cookie the client holds): independent events of probability 1/3, so a binomial count.
    /// </summary>
    private static void AssertSameInstanceAsBefore(FleetProbeResult probe)
    {
        var (low, high) = BinomialRange.Of(Connections, 1.0 / 3);
        Assert.InRange(probe.FastOpen, low, high);
        Assert.Equal(Connections, probe.Instances.Sum(instance => instance.Reached));
        Assert.Equal(probe.FastOpen, probe.Instances.Sum(instance => instance.FastOpen));
    }

    /// <summary>Probes a fleet built for the test; every connection is answered, and both ends agree on each.</summary>
    private static async Task<FleetProbeResult> ProbeAsync(FleetBalancer balancer, bool sharedKeys)
    {
        await using var fleet = await SampleFleet.StartAsync(balancer, sharedKeys);
        var probe = await FleetProbe.CurlAsync(fleet, Connections, Timeout);
        Assert.Equal(0, probe.Failed);
        Assert.All(probe.Connections, connection => Assert.Equal(connection.ClientFastOpen, connection.ServerFastOpen));
        return probe;
    }

    private static string Describe(FleetProbeResult probe) =>
        string.Join("; ", probe.Instances.Select((instance, i) => $"instance {i}: {instance.FastOpen} fast open, {instance.CookieRejected} cookies refused"));
}
