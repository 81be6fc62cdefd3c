using KestrelTfo.Platform;

namespace KestrelTfo.Fleet;

/// <summary>
/// Probes the service address from the client's namespace as an operator would, with <c>curl --tcp-fastopen</c>: one
/// connection to fetch a cookie, then one at a time, each judged by the client's kernel counters around it and by the
/// answering instance's word.
/// </summary>
public static class FleetProbe
{
    /// <summary>How the sample begins its answer when the connection's SYN carried the request.</summary>
    public const string FastOpenAnswer = "this connection used TFO";

    private static readonly TimeSpan s_curlTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Fetches a cookie, then opens <paramref name="connections"/> connections one after another.</summary>
    /// <param name="fleet">The fleet.</param>
    /// <param name="connections">Connections after the cookie connection.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>What each connection and each instance saw.</returns>
    public static async Task<FleetProbeResult> CurlAsync(EmulatedFleet fleet, int connections, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        using var client = Netstat(fleet.Client);
        var instances = fleet.Instances.Select(instance => Netstat(instance.Namespace)).ToArray();
        try
        {
            // The first connection only fetches the cookie (a cached one may be stale): not counted.
            await CurlAsync(fleet, cancellationToken).ConfigureAwait(false);
            var before = instances.Select(Read).ToArray();
            var seen = new List<FleetConnection>(connections);
            for (var i = 0; i < connections; i++)
            {
                var clientBefore = Read(client);
                var (succeeded, serverFastOpen) = await CurlAsync(fleet, cancellationToken).ConfigureAwait(false);
                var clientAfter = Read(client);
                var acknowledged = clientAfter[TcpFastOpenCounter.Active] - clientBefore[TcpFastOpenCounter.Active];
                seen.Add(new FleetConnection(succeeded, acknowledged == 1, serverFastOpen));
            }

            var after = instances.Select(Read).ToArray();
            return new FleetProbeResult(
                seen,
                [.. before.Zip(after, (b, a) => new FleetInstanceCounts(
                    a[TcpFastOpenCounter.Passive] - b[TcpFastOpenCounter.Passive],
                    a[TcpFastOpenCounter.PassiveFail] - b[TcpFastOpenCounter.PassiveFail]))]);
        }
        finally
        {
            foreach (var netstat in instances)
            {
                netstat.Dispose();
            }
        }
    }

    private static async Task<(bool Succeeded, bool ServerFastOpen)> CurlAsync(EmulatedFleet fleet, CancellationToken cancellationToken)
    {
        var url = $"http://{fleet.ServiceEndPoint}/";
        var result = await fleet.Client.ExecAsync("curl", ["--silent", "--show-error", "--tcp-fastopen", "--max-time", "10", url], s_curlTimeout, cancellationToken).ConfigureAwait(false);
        return (result.ExitCode == 0 && result.Output.EndsWith('\n'), result.Output.StartsWith(FastOpenAnswer, StringComparison.Ordinal));
    }

    private static LinuxNetstat Netstat(FleetNamespace ns) => new(Path.Combine(ns.ProcNetDirectory, "netstat"));

    private static TcpFastOpenCounters Read(LinuxNetstat netstat) =>
        netstat.TryRead(out var counters) ? counters : throw new InvalidOperationException(netstat.Error);
}
