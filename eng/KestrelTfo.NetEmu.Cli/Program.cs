using System.Net;
using System.Runtime.InteropServices;
using KestrelTfo.NetEmu;
using KestrelTfo.NetEmu.Cli;
using Microsoft.Extensions.Logging;

const string Usage = """
    netemu: an emulated WAN link between two network namespaces (root only).

      netemu up [--name link] [faults]      named namespaces kestreltfo-NAME-server / -client, until Ctrl+C
      netemu measure [--pps 10000] [--seconds 5] [--delay 25]
                                            forwards UDP through a link and reports rate and added delay
      netemu cleanup                        deletes kestreltfo-* namespaces left by crashed runs

    faults (both directions, or one with --up-X for client->server, --down-X for server->client):
      --rtt MS  --delay MS  --jitter MS  --loss P  --duplicate P  --reorder P  --replay-after MS  --seed N
    addresses: --server-address 198.18.0.1 --client-address 198.18.0.2 (198.18.0.0/15 only)
    """;

using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
var logger = loggerFactory.CreateLogger("netemu");

CommandLine line;
try
{
    line = CommandLine.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine($"{exception.Message}\n\n{Usage}");
    return 2;
}

if (EmulatedLink.UnavailableReason is { } reason)
{
    Console.Error.WriteLine($"netemu: {reason}");
    return 2;
}

try
{
    switch (line.Command)
    {
        case "up":
            {
                var options = line.LinkOptions();
                options.NamespaceName = line.String("name") ?? "link";
                options.ServerAddress ??= IPAddress.Parse("198.18.0.1");
                options.ClientAddress ??= IPAddress.Parse("198.18.0.2");
                options.Logger = logger;
                line.RejectUnknown();
                using var link = EmulatedLink.Start(options);
                Console.WriteLine($"""
                    server: ip netns exec {link.ServerNamespace} ...   ({link.ServerAddress} on {link.ServerDeviceName})
                    client: ip netns exec {link.ClientNamespace} ...   ({link.ClientAddress} on {link.ClientDeviceName})
                    Ctrl+C (or SIGTERM) tears the link down.
                    """);
                using var stop = new ManualResetEventSlim();
                using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Set(); });
                using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Set(); });
                stop.Wait();
                Console.WriteLine($"to server: {link.ToServer}\nto client: {link.ToClient}");
                return 0;
            }

        case "measure":
            {
                var options = line.LinkOptions();
                var pps = (int)(line.Number("pps") ?? 10_000);
                var seconds = line.Number("seconds") ?? 5;
                if (line.Number("delay") is null && line.Number("rtt") is null)
                {
                    options.WithRoundTripTime(TimeSpan.FromMilliseconds(50));
                }

                // Both sides in namespaces of their own: the probe never adds a device to the caller's namespace.
                options.NamespaceName = $"measure{Environment.ProcessId}";
                line.RejectUnknown();
                using var link = EmulatedLink.Start(options);
                return ThroughputProbe.Run(link, options.ToServer.Delay, pps, TimeSpan.FromSeconds(seconds));
            }

        case "cleanup":
            line.RejectUnknown();
            Console.WriteLine($"removed {EmulatedLink.RemoveLeftoverNamespaces(logger)} leftover namespace(s)");
            return 0;

        default:
            Console.Error.WriteLine($"unknown command `{line.Command}`\n\n{Usage}");
            return 2;
    }
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine($"netemu: {exception.Message}");
    return 2;
}
catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
{
    Console.Error.WriteLine($"netemu: {exception.Message}");
    return 1;
}
