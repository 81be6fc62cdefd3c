using System.Globalization;
using System.Text;
using KestrelTfo.Fleet;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// Every balancer with one shared key and with a key per instance: a cookie connection, then new connections one at a
/// time with <c>curl --tcp-fastopen</c>, counted TFO when the client's kernel saw the SYN's data acknowledged.
/// </summary>
internal static class MatrixScenario
{
    private static readonly (FleetBalancer Balancer, string Description)[] s_balancers =
    [
        (FleetBalancer.Ecmp, "ECMP / anycast: every instance holds the service address (L4 hash)"),
        (FleetBalancer.DnatRandom, "DNAT, random pick (`numgen random`; kube-proxy, IPVS NAT)"),
        (FleetBalancer.DnatRoundRobin, "DNAT, round robin (`numgen inc`)"),
        (FleetBalancer.DnatClientAddress, "DNAT pinned by client address (`jhash ip saddr`; `sessionAffinity: ClientIP`)"),
    ];

    public static async Task<string> RunAsync(Func<FleetBalancer, bool, FleetOptions> options, int connections, CancellationToken cancellationToken)
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| balancer ({connections} new connections after the cookie connection) | one shared `CookieKey` | each instance's own key |");
        table.AppendLine("|---|---:|---:|");
        foreach (var (balancer, description) in s_balancers)
        {
            var shared = await ProbeAsync(options(balancer, true), connections, cancellationToken).ConfigureAwait(false);
            var own = await ProbeAsync(options(balancer, false), connections, cancellationToken).ConfigureAwait(false);
            table.AppendLine(CultureInfo.InvariantCulture, $"| {description} | {shared} | {own} |");
        }

        return table.ToString();
    }

    private static async Task<string> ProbeAsync(FleetOptions options, int connections, CancellationToken cancellationToken)
    {
        await using var fleet = await EmulatedFleet.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var probe = await FleetProbe.CurlAsync(fleet, connections, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"bench-fleet: {options.Balancer}, {(options.SharedCookieKey ? "shared key" : "own keys")}: {probe.FastOpen}/{connections} TFO, " +
                                $"by instance {string.Join(" ", probe.Instances.Select(i => $"{i.FastOpen}/{i.Reached}"))}, {probe.Failed} failed");
        // The client's kernel and the answering instance judge each connection; a disagreement would void the count.
        var disagreed = probe.Connections.Count(c => c.ClientFastOpen != c.ServerFastOpen);
        var failed = probe.Failed == 0 ? "" : $" ({probe.Failed} failed)";
        var disputed = disagreed == 0 ? "" : $" ({disagreed} judged otherwise by the instance)";
        return string.Create(CultureInfo.InvariantCulture, $"{probe.FastOpen}/{connections} TFO{failed}{disputed}");
    }
}
