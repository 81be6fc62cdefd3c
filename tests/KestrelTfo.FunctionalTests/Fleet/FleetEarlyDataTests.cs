using KestrelTfo.Fleet;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>
/// TLS 1.3 early data across three instances of the sample behind a balancer, from a client that resumes, on each new
/// connection, the session the one before got (<c>openssl s_client -sess_in -early_data</c>). Early data rides only on a
/// resumed session, and a ticket resumes only on an instance holding the key it was made under: with one shared
/// <c>TicketKey</c>, every instance, whatever server address it sees (unlike a TCP Fast Open cookie, a ticket does not
/// depend on it, so DNAT does not matter); with a key per instance, only the one that issued it. Declined early data costs a
/// round trip, never the request: no connection may fail.
/// </summary>
[Collection(nameof(FleetTests))]
public sealed class FleetEarlyDataTests(EarlyDataFleets fleets) : IClassFixture<EarlyDataFleets>
{
    private const int Connections = 60;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_ECMP_with_a_shared_ticket_key_every_resumed_connection_has_its_early_data_accepted_on_whichever_instance_it_reaches() =>
        await AssertEveryConnectionAcceptedAsync(() => fleets.Shared);

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_random_DNAT_with_a_shared_ticket_key_every_resumed_connection_has_its_early_data_accepted_though_each_instance_sees_its_own_address() =>
        await AssertEveryConnectionAcceptedAsync(() => fleets.SharedBehindDnat);

    [Fact(Timeout = Limits.LongTest)]
    public async Task Behind_ECMP_with_a_ticket_key_per_instance_early_data_is_accepted_only_where_the_session_was_issued()
    {
        SampleFleet.Require();

        var probe = await FleetEarlyDataProbe.RunAsync(fleets.Own, Connections, Timeout);

        Assert.Equal(0, probe.Failed);
        // Each connection reaches the instance whose ticket it holds (the one before's) with probability 1/3, by the
        // router's hash of its random client port; there, past the replay window, its early data is accepted.
        var (low, high) = BinomialRange.Of(Connections, 1.0 / 3);
        Assert.InRange(probe.Accepted, low, high);

        // Early data needs a resumed session, so none is accepted elsewhere; and every resumed connection has it accepted.
        Assert.Equal(probe.Resumed, probe.Accepted);
        Assert.Equal(Connections - probe.Accepted, probe.Declined);
    }

    // The fleet is asked for after Require, which skips where none could be built.
    private static async Task AssertEveryConnectionAcceptedAsync(Func<EmulatedFleet> fleet)
    {
        SampleFleet.Require();

        var probe = await FleetEarlyDataProbe.RunAsync(fleet(), Connections, Timeout);

        Assert.Equal(0, probe.Failed);
        Assert.Equal((Connections, Connections), (probe.Resumed, probe.Accepted));
    }
}
