using System.Globalization;
using System.Text;
using KestrelTfo.Fleet;
using KestrelTfo.Platform;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// Behind ECMP with one shared key, a client opens new connections continuously while each instance restarts in turn
/// (withdrawn from the route, SIGTERM, started again with the same configuration, restored), then while the key
/// rotates in three steps across the fleet, each step reaching every instance (by a configuration reload) before the
/// next. Counts failed connections and the share of them whose request rode in the SYN.
/// </summary>
internal static class RollingScenario
{
    public static async Task<string> RunAsync(FleetOptions options, int workers, TimeSpan settle, CancellationToken cancellationToken)
    {
        await using var fleet = await EmulatedFleet.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var instances = fleet.Instances.Select(i => new LinuxNetstat(Path.Combine(i.Namespace.ProcNetDirectory, "netstat"))).ToArray();
        var client = new LoadClient(fleet);
        var phases = new List<LoadPhase>();
        using var stop = new CancellationTokenSource();

        // Each phase also counts the connections the instances accepted under their backup key.
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

        // The first connection fetches the cookie; the warm-up keeps it out of the figures.
        Begin("warm-up", reported: false);
        var load = client.RunAsync(workers, stop.Token);
        try
        {
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            Begin("steady");
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);

            foreach (var instance in fleet.Instances)
            {
                Begin(string.Create(CultureInfo.InvariantCulture, $"restart instance {instance.Index}"));
                await fleet.RestartAsync(instance, cancellationToken).ConfigureAwait(false);
                await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
            }

            var oldKey = fleet.Instances[0].CookieKey;
            var newKey = EmulatedFleet.NewCookieKey();
            (string Name, string Primary, string? Backup)[] steps =
            [
                ("rotation 1: new key added as BackupCookieKey", oldKey, newKey),
                ("rotation 2: new key is CookieKey, old is BackupCookieKey", newKey, oldKey),
                ("rotation 3: old key removed", newKey, null),
            ];
            foreach (var (name, primary, backup) in steps)
            {
                Begin(name);
                foreach (var instance in fleet.Instances)
                {
                    await instance.SetCookieKeysAsync(primary, backup, cancellationToken).ConfigureAwait(false);
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

        return Table(phases);
    }

    private static string Table(List<LoadPhase> phases)
    {
        var table = new StringBuilder();
        table.AppendLine("| phase | seconds | new connections | failed | TFO | TFO share | accepted under the backup key |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var phase in phases)
        {
            Row(table, phase.Name, [phase]);
        }

        Row(table, "**rolling restart, all instances**", [.. phases.Where(p => p.Name.StartsWith("restart", StringComparison.Ordinal))]);
        Row(table, "**rotation, all three steps**", [.. phases.Where(p => p.Name.StartsWith("rotation", StringComparison.Ordinal))]);
        var errors = phases.SelectMany(p => p.Errors.Select(e => $"- {p.Name}: {e}")).ToList();
        if (errors.Count > 0)
        {
            table.AppendLine().AppendLine("Failures (the first few of each phase):").AppendLine(string.Join('\n', errors));
        }

        return table.ToString();
    }

    private static void Row(StringBuilder table, string name, IReadOnlyList<LoadPhase> phases)
    {
        var connections = phases.Sum(p => p.Connections);
        var failed = phases.Sum(p => p.Failed);
        var fastOpen = phases.Sum(p => p.FastOpen);
        var seconds = phases.Sum(p => p.Elapsed.TotalSeconds);
        var share = connections == 0 ? 0 : 100.0 * fastOpen / connections;
        table.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {seconds:0.0} | {connections} | {failed} | {fastOpen} | {share:0.00}% | {phases.Sum(p => p.AlternateKey)} |");
    }

    private static long Sum(LinuxNetstat[] instances, TcpFastOpenCounter counter) =>
        instances.Sum(netstat => netstat.TryRead(out var counters) ? counters[counter] : throw new InvalidOperationException(netstat.Error));
}
