using KestrelTfo.Fleet;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>
/// Fleets of three instances serving HTTPS with early data: behind ECMP one with a shared ticket key and one with a key
/// per instance, and behind random DNAT one with a shared key; started together and ready once every instance is past
/// its replay window. An instance with configured keys declines early data for 12 s after it starts, so the class pays
/// that wait once, not per test.
/// </summary>
public sealed class EarlyDataFleets : IAsyncLifetime
{
    // Start-up and the 12 s window, with room for a machine shared with other builds.
    private static readonly TimeSpan s_readyLimit = TimeSpan.FromSeconds(60);

    private EmulatedFleet? _shared;
    private EmulatedFleet? _own;
    private EmulatedFleet? _dnat;

    /// <summary>Gets the fleet whose instances share one ticket key.</summary>
    public EmulatedFleet Shared => _shared ?? throw new InvalidOperationException("not started");

    /// <summary>Gets the fleet whose instances each have a ticket key of their own.</summary>
    public EmulatedFleet Own => _own ?? throw new InvalidOperationException("not started");

    /// <summary>Gets the fleet behind random DNAT whose instances share one ticket key.</summary>
    public EmulatedFleet SharedBehindDnat => _dnat ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        if (EmulatedFleet.UnavailableReason is not null)
        {
            // Each test says why it cannot run.
            return;
        }

        var shared = StartReadyAsync(FleetBalancer.Ecmp, sharedKeys: true);
        var own = StartReadyAsync(FleetBalancer.Ecmp, sharedKeys: false);
        var dnat = StartReadyAsync(FleetBalancer.DnatRandom, sharedKeys: true);
        try
        {
            await Task.WhenAll(shared, own, dnat);
        }
        finally
        {
            // Whatever started is removed by DisposeAsync, also when another failed.
            _shared = shared.IsCompletedSuccessfully ? shared.Result : null;
            _own = own.IsCompletedSuccessfully ? own.Result : null;
            _dnat = dnat.IsCompletedSuccessfully ? dnat.Result : null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var fleet in new[] { _shared, _own, _dnat })
        {
            if (fleet is not null)
            {
                await fleet.DisposeAsync();
            }
        }
    }

    private static async Task<EmulatedFleet> StartReadyAsync(FleetBalancer balancer, bool sharedKeys)
    {
        var fleet = await EmulatedFleet.StartAsync(SampleFleet.Options(balancer, sharedKeys, FleetOptions.DefaultHttpsPort), CancellationToken.None);
        try
        {
            await FleetEarlyDataProbe.WaitUntilEveryInstanceAcceptsAsync(fleet, s_readyLimit, CancellationToken.None);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }
}
