using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace KestrelTfo.Doctor;

/// <summary>The doctor's command line.</summary>
internal sealed record DoctorOptions(bool Json, CheckTarget? Check, TimeSpan Timeout, bool Help)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public const string Usage = """
        Usage: kestreltfo-doctor [--json] [--check HOST:PORT] [--timeout SECONDS]

        Says whether TCP Fast Open works on this machine: the kernel settings, then a live self-test on a
        loopback address (a listener with TCP_FASTOPEN, a connection that fetches a cookie, a connection whose
        data must ride in the SYN), and the exact fix when something is missing.

          --json               print the report as JSON: {ok, exitCode, checks: [{name, ok, value, detail}], fix}
          --check HOST:PORT    instead of the self-test, connect twice with TCP Fast Open to a running server
                               there and report whether it accepted the second connection's data in the SYN
                               (sends `HEAD / HTTP/1.1`); IPv6 as [ADDRESS]:PORT
          --timeout SECONDS    how long each connection step may take (default 5)
          -h, --help           print this text

        Exit codes: 0 TCP Fast Open works end to end (with --check: the server accepted data in a SYN),
        1 net.ipv4.tcp_fastopen lacks a needed bit, 2 bad arguments, 3 the settings look right but the
        self-test failed, 4 the --check server did not accept data in a SYN, 5 not Linux.
        """;

    public static bool TryParse(string[] args, [NotNullWhen(true)] out DoctorOptions? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        error = null;
        var json = false;
        var help = false;
        CheckTarget? check = null;
        var timeout = DefaultTimeout;

        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var equals = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            var name = equals < 0 ? arg : arg[..equals];
            string? inline = equals < 0 ? null : arg[(equals + 1)..];

            switch (name)
            {
                case "--json" when inline is null:
                    json = true;
                    break;
                case "-h" or "--help" or "-?" when inline is null:
                    help = true;
                    break;
                case "--check":
                    if (!TryValue(args, ref i, inline, name, out var target, out error))
                    {
                        return false;
                    }

                    if (!CheckTarget.TryParse(target, out check))
                    {
                        error = $"--check wants HOST:PORT (IPv6 as [ADDRESS]:PORT), not '{target}'";
                        return false;
                    }

                    break;
                case "--timeout":
                    if (!TryValue(args, ref i, inline, name, out var seconds, out error))
                    {
                        return false;
                    }

                    if (!double.TryParse(seconds, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ||
                        value is < 0.1 or > 300)
                    {
                        error = $"--timeout wants a number of seconds from 0.1 to 300, not '{seconds}'";
                        return false;
                    }

                    timeout = TimeSpan.FromSeconds(value);
                    break;
                default:
                    error = $"unknown argument '{arg}'";
                    return false;
            }
        }

        options = new DoctorOptions(json, check, timeout, help);
        return true;
    }

    private static bool TryValue(string[] args, ref int i, string? inline, string name, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        value = inline;
        error = null;
        if (value is null && i + 1 < args.Length)
        {
            value = args[++i];
        }

        if (string.IsNullOrEmpty(value))
        {
            error = $"{name} needs a value";
            return false;
        }

        return true;
    }
}
