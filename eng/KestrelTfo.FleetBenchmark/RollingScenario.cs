using System.Globalization;
using System.Text;
using KestrelTfo.Fleet;
using KestrelTfo.Platform;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// Behind ECMP with shared keys, a client opens new connections continuously while each instance restarts in turn
/// (withdrawn from the route, SIGTERM, started again with the same configuration, restored), then while a key rotates in
/// three steps across the fleet, each step reaching every instance (by a configuration reload) before the next. Counts
/// failed connections and the share that saved their round trip: over TCP Fast Open with the cookie key rotating, or
/// over TLS 1.3 early data with the ticket key rotating, where a second rolling restart keeps each instance out of the
/// route until it accepts early data again.
/// </summary>
internal static class RollingScenario
{
    private static readonly TimeSpan s_readyLimit = TimeSpan.FromSeconds(60);

    public static async Task<string> RunAsync(FleetOptions options, bool earlyData, int workers, TimeSpan settle, CancellationToken cancellationToken)
    {
        await using var fleet = await EmulatedFleet.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var instances = fleet.Instances.Select(i => new LinuxNetstat(Path.Combine(i.Namespace.ProcNetDirectory, "netstat"))).ToArray();
        var client = new LoadClient(earlyData ? () => new EarlyDataConnection(fleet) : () => new FastOpenConnection(fleet));
        var phases = new List<LoadPhase>();
        using var stop = new CancellationTokenSource();

        // Each phase also counts the connections the instances accepted under their backup cookie key.
        LoadPhase? current = null;
        var alternateBefore = 0L;
        void Begin(string name, bool reported = true)
        {
            var now = Sum(instances, TcpFastOpenCounter.PassiveAltKey);
            current?.AlternateKey = now - alternateBefore;
            alternateBefore = now;
            current = client.Begin(name);
            if (reported)
            {
                phases.Add(current);
            }
        }

        Task ReadyAsync(FleetInstance instance, CancellationToken token) => FleetEarlyDataProbe.WaitUntilAcceptsAsync(fleet, instance, s_readyLimit, token);

        // The first connection fetches the cookie or the session; the warm-up keeps it out of the figures, and with early
        // data it lasts until every instance is past the replay window it starts with.
        Begin("warm-up", reported: false);
        var load = client.RunAsync(workers, stop.Token);
        try
        {
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            if (earlyData)
            {
                await FleetEarlyDataProbe.WaitUntilEveryInstanceAcceptsAsync(fleet, s_readyLimit, cancellationToken).ConfigureAwait(false);
            }

            Begin("steady");
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);

            foreach (var instance in fleet.Instances)
            {
                Begin(string.Create(CultureInfo.InvariantCulture, $"restart instance {instance.Index}"));
                await fleet.RestartAsync(instance, cancellationToken).ConfigureAwait(false);
                await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            }

            if (earlyData)
            {
                // The windows of the restart above pass before the next phase, so that it shows the rotation alone.
                Begin("until every instance accepts early data again");
                await FleetEarlyDataProbe.WaitUntilEveryInstanceAcceptsAsync(fleet, s_readyLimit, cancellationToken).ConfigureAwait(false);
                foreach (var instance in fleet.Instances)
                {
                    Begin(string.Create(CultureInfo.InvariantCulture, $"restart gated instance {instance.Index}: restored once it accepts early data"));
                    await fleet.RestartAsync(instance, ReadyAsync, cancellationToken).ConfigureAwait(false);
                    await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
                }
            }

            var setting = earlyData ? nameof(FastOpenTransportOptions.TicketKey) : nameof(FastOpenTransportOptions.CookieKey);
            var oldKey = earlyData ? fleet.Instances[0].TicketKey! : fleet.Instances[0].CookieKey;
            var newKey = earlyData ? EmulatedFleet.NewTicketKey() : EmulatedFleet.NewCookieKey();
            (string Name, string Primary, string? Backup)[] steps =
            [
                ($"rotation 1: new key added as Backup{setting}", oldKey, newKey),
                ($"rotation 2: new key is {setting}, old is Backup{setting}", newKey, oldKey),
                ("rotation 3: old key removed", newKey, null),
            ];
            foreach (var (name, primary, backup) in steps)
            {
                Begin(name);
                foreach (var instance in fleet.Instances)
                {
                    await (earlyData
                        ? instance.SetTicketKeysAsync(primary, backup, cancellationToken)
                        : instance.SetCookieKeysAsync(primary, backup, cancellationToken)).ConfigureAwait(false);
                }

                await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            }

            Begin("steady after");
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            Begin("end", reported: false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await load.ConfigureAwait(false);
            foreach (var netstat in instances)
            {
                netstat.Dispose();
            }
        }

        return Table(phases, earlyData);
    }

    private static string Table(List<LoadPhase> phases, bool earlyData)
    {
        var table = new StringBuilder();
        table.AppendLine(earlyData
            ? "| phase | seconds | new connections | failed | early data accepted | accepted share |"
            : "| phase | seconds | new connections | failed | TFO | TFO share | accepted under the backup key |");
        table.AppendLine(earlyData ? "|---|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|---:|");
        foreach (var phase in phases)
        {
            Row(table, phase.Name, [phase], earlyData);
        }

        Row(table, "**rolling restart, all instances**", [.. phases.Where(p => p.Name.StartsWith("restart instance", StringComparison.Ordinal))], earlyData);
        if (earlyData)
        {
            Row(table, "**rolling restart gated on early data, all instances**", [.. phases.Where(p => p.Name.StartsWith("restart gated", StringComparison.Ordinal))], earlyData);
        }

        Row(table, "**rotation, all three steps**", [.. phases.Where(p => p.Name.StartsWith("rotation", StringComparison.Ordinal))], earlyData);
        var errors = phases.SelectMany(p => p.Errors.Select(e => $"- {p.Name}: {e}")).ToList();
        if (errors.Count > 0)
        {
            table.AppendLine().AppendLine("Failures (the first few of each phase):").AppendLine(string.Join('\n', errors));
        }

        return table.ToString();
    }

    private static void Row(StringBuilder table, string name, IReadOnlyList<LoadPhase> phases, bool earlyData)
    {
        var connections = phases.Sum(p => p.Connections);
        var failed = phases.Sum(p => p.Failed);
        var saved = phases.Sum(p => p.Saved);
        var seconds = phases.Sum(p => p.Elapsed.TotalSeconds);
        var share = connections == 0 ? 0 : 100.0 * saved / connections;
        var alternate = earlyData ? "" : string.Create(CultureInfo.InvariantCulture, $" {phases.Sum(p => p.AlternateKey)} |");
        table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {seconds:0.0} | {connections} | {failed} | {saved} | {share:0.00}% |{alternate}");
    }

    private static long Sum(LinuxNetstat[] instances, TcpFastOpenCounter counter) =>
        instances.Sum(netstat => netstat.TryRead(out var counters) ? counters[counter] : throw new InvalidOperationException(netstat.Error));
}
