using System.Globalization;
using System.Text;
using KestrelTfo.Fleet;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// Every balancer with one shared key and with a key per instance: a cookie connection, then new connections one at a
/// time with <c>curl --tcp-fastopen</c>, counted TFO when the client's kernel saw the SYN's data acknowledged; and the
/// table, one row per balancer and a column per key setting, that other probes (<see cref="EarlyDataMatrixScenario"/>) fill too.
/// </summary>
internal static class MatrixScenario
{
    /// <summary>Every balancer, as the tables name it.</summary>
    public static readonly (FleetBalancer Balancer, string Description)[] Balancers =
    [
        (FleetBalancer.Ecmp, "ECMP / anycast: every instance holds the service address (L4 hash)"),
        (FleetBalancer.DnatRandom, "DNAT, random pick (`numgen random`; kube-proxy, IPVS NAT)"),
        (FleetBalancer.DnatRoundRobin, "DNAT, round robin (`numgen inc`)"),
        (FleetBalancer.DnatClientAddress, "DNAT pinned by client address (`jhash ip saddr`; `sessionAffinity: ClientIP`)"),
    ];

    public static Task<string> RunAsync(Func<FleetBalancer, bool, FleetOptions> options, int connections, CancellationToken cancellationToken) =>
        TableAsync(
            string.Create(CultureInfo.InvariantCulture, $"balancer ({connections} new connections after the cookie connection)"),
            "CookieKey",
            Balancers,
            options,
            fleetOptions => ProbeAsync(fleetOptions, connections, cancellationToken));

    /// <summary>A table of one row per balancer and a column each for shared keys and keys per instance, each cell a probe of a fleet built for it.</summary>
    public static async Task<string> TableAsync(
        string caption, string setting, IEnumerable<(FleetBalancer Balancer, string Description)> balancers, Func<FleetBalancer, bool, FleetOptions> options, Func<FleetOptions, Task<string>> probe)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| {caption} | one shared `{setting}` | each instance's own key |");
        table.AppendLine("|---|---:|---:|");
        foreach (var (balancer, description) in balancers)
        {
            var shared = await probe(options(balancer, true)).ConfigureAwait(false);
            var own = await probe(options(balancer, false)).ConfigureAwait(false);
            table.AppendLine(CultureInfo.InvariantCulture, $"| {description} | {shared} | {own} |");
        }

        return table.ToString();
    }

    private static async Task<string> ProbeAsync(FleetOptions options, int connections, CancellationToken cancellationToken)
    {
        await using var fleet = await EmulatedFleet.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var probe = await FleetProbe.CurlAsync(fleet, connections, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"bench-fleet: {options.Balancer}, {(options.SharedKeys ? "shared key" : "own keys")}: {probe.FastOpen}/{connections} TFO, " +
                                $"by instance {string.Join(" ", probe.Instances.Select(i => $"{i.FastOpen}/{i.Reached}"))}, {probe.Failed} failed");
        // The client's kernel and the answering instance judge each connection; a disagreement would void the count.
        var disagreed = probe.Connections.Count(c => c.ClientFastOpen != c.ServerFastOpen);
        var failed = probe.Failed == 0 ? "" : $" ({probe.Failed} failed)";
        var disputed = disagreed == 0 ? "" : $" ({disagreed} judged otherwise by the instance)";
        return string.Create(CultureInfo.InvariantCulture, $"{probe.FastOpen}/{connections} TFO{failed}{disputed}");
    }
}
