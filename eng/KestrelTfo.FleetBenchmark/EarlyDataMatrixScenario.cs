using System.Globalization;
using KestrelTfo.Fleet;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// TLS 1.3 early data behind ECMP and behind random DNAT, with one shared ticket key and with a key per instance: once
/// every instance is past its replay window, a first session, then new connections one at a time with
/// <c>openssl s_client</c>, each resuming the session the one before got with its request as early data.
/// </summary>
internal static class EarlyDataMatrixScenario
{
    private static readonly TimeSpan s_readyLimit = TimeSpan.FromSeconds(60);

    public static Task<string> RunAsync(Func<FleetBalancer, bool, FleetOptions> options, int connections, CancellationToken cancellationToken) =>
        MatrixScenario.TableAsync(
            string.Create(CultureInfo.InvariantCulture, $"balancer ({connections} resumed connections after the first session)"),
            "TicketKey",
            MatrixScenario.Balancers.Where(b => b.Balancer is FleetBalancer.Ecmp or FleetBalancer.DnatRandom),
            options,
            fleetOptions => ProbeAsync(fleetOptions, connections, cancellationToken));

    private static async Task<string> ProbeAsync(FleetOptions options, int connections, CancellationToken cancellationToken)
    {
        await using var fleet = await EmulatedFleet.StartAsync(options, cancellationToken).ConfigureAwait(false);
        await FleetEarlyDataProbe.WaitUntilEveryInstanceAcceptsAsync(fleet, s_readyLimit, cancellationToken).ConfigureAwait(false);
        var probe = await FleetEarlyDataProbe.RunAsync(fleet, connections, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"bench-fleet: early data, {options.Balancer}, {(options.SharedKeys ? "shared keys" : "own keys")}: {probe.Accepted}/{connections} accepted, " +
                                $"{probe.Resumed} resumed, {probe.Declined} declined, {probe.Failed} failed");
        var failed = probe.Failed == 0 ? "0 failed" : $"**{probe.Failed} failed**";
        return string.Create(CultureInfo.InvariantCulture, $"{probe.Accepted}/{connections} accepted, {probe.Resumed} resumed, {failed}");
    }
}
