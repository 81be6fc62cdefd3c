using System.CommandLine;
using System.Globalization;

namespace KestrelTfo.Doctor;

/// <summary>The doctor's command line (System.CommandLine, as the .NET diagnostic tools have theirs): options, help, version.</summary>
internal static class DoctorCommandLine
{
    private const string Description = """
        Says whether TCP Fast Open works on this machine: the kernel settings, then a live self-test on a loopback
        address (a listener with TCP_FASTOPEN, a connection that fetches a cookie, a connection whose data must ride in
        the SYN), and the exact fix when something is missing. With --check, tells the same of a running server; with
        --check https://HOST:PORT also whether it accepts TLS 1.3 early data, and whether it refuses a replayed first flight.

        Exit codes: 0 TCP Fast Open works end to end (with --check: the server took the data in every SYN),
        1 net.ipv4.tcp_fastopen lacks a needed bit, 2 bad arguments, 3 the settings look right but the self-test
        failed, 4 the --check server did not answer or took no SYN's data, 5 not Linux, 6 the --check server took
        the data in some SYNs and not in others, 7 the --check https server took a replayed first flight's early data.
        """;

    /// <summary>Parses <paramref name="args"/>, then runs the doctor, or prints help, the version or what is wrong.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, output, error, selfTestAddress: null, cancellationToken);

    /// <param name="args">The command line.</param>
    /// <param name="output">Where the report goes.</param>
    /// <param name="error">Where usage problems go.</param>
    /// <param name="selfTestAddress">The self-test's loopback address (<see cref="DoctorOptions.SelfTestAddress"/>); tests set it.</param>
    /// <param name="cancellationToken">Ends the run.</param>
    internal static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, System.Net.IPAddress? selfTestAddress, CancellationToken cancellationToken)
    {
        var json = new Option<bool>("--json") { Description = "print the report as JSON: {ok, exitCode, summary, checks: [{name, ok, value, detail}], fix, fleet}" };
        var check = new Option<CheckTarget?>("--check")
        {
            Description = "check a running server instead of this machine: HOST:PORT or http://HOST:PORT sends a plaintext HEAD in its SYNs, " +
                          "https://HOST:PORT a TLS ClientHello; IPv6 as [ADDRESS]:PORT",
            HelpName = "target",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (CheckTarget.TryParse(text, out var target))
                {
                    return target;
                }

                result.AddError($"--check wants HOST:PORT, http://HOST:PORT or https://HOST:PORT (IPv6 as [ADDRESS]:PORT), not '{text}'");
                return null;
            },
        };
        var connections = new Option<int>("--connections")
        {
            Description = "with --check: how many connections follow the cookie connection, each telling whether the server took its SYN's " +
                          "data; the share says whether every instance behind the address accepts this client's cookie",
            DefaultValueFactory = _ => 1,
            HelpName = "n",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= DoctorOptions.MaxConnections)
                {
                    return value;
                }

                result.AddError($"--connections wants a number from 1 to {DoctorOptions.MaxConnections}, not '{text}'");
                return 0;
            },
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "how long each connection step may take, in seconds",
            DefaultValueFactory = _ => DoctorOptions.DefaultTimeout.TotalSeconds,
            HelpName = "seconds",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value is >= 0.1 and <= 300)
                {
                    return value;
                }

                result.AddError($"--timeout wants a number of seconds from 0.1 to 300, not '{text}'");
                return 0;
            },
        };

        var root = new RootCommand(Description) { json, check, connections, timeout };
        root.SetAction(async (parsed, token) =>
        {
            var target = parsed.GetValue(check);
            if (target is null && parsed.GetResult(connections) is { Implicit: false })
            {
                await error.WriteLineAsync("kestreltfo-doctor: --connections needs --check. Run kestreltfo-doctor --help for usage.");
                return (int)DoctorExitCode.Usage;
            }

            var options = new DoctorOptions(parsed.GetValue(json), target, TimeSpan.FromSeconds(parsed.GetValue(timeout)), parsed.GetValue(connections), selfTestAddress);
            var report = await FastOpenDoctor.DiagnoseAsync(options, token);
            if (options.Json)
            {
                report.WriteJson(output);
            }
            else
            {
                report.WriteText(output);
            }

            return (int)report.ExitCode;
        });

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // Exit code 2 and one line per problem, as the doctor always had: scripts depend on it.
            foreach (var problem in parseResult.Errors)
            {
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"kestreltfo-doctor: {problem.Message}"));
            }

            await error.WriteLineAsync("Run kestreltfo-doctor --help for usage.");
            return (int)DoctorExitCode.Usage;
        }

        return await parseResult.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
