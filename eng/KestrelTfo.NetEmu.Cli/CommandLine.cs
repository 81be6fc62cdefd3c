using System.Globalization;
using System.Net;

namespace KestrelTfo.NetEmu.Cli;

/// <summary>The parsed command line: a command and <c>--name value</c> pairs.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private CommandLine(string command) => Command = command;

    public string Command { get; }

    public static CommandLine Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            throw new ArgumentException("missing command");
        }

        var line = new CommandLine(args[0]);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected `--option value` at `{args[i]}`");
            }

            line._values[args[i][2..]] = args[i + 1];
        }

        return line;
    }

    public string? String(string name)
    {
        _used.Add(name);
        return _values.GetValueOrDefault(name);
    }

    public double? Number(string name) =>
        String(name) is { } text ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) : null;

    public IPAddress? Address(string name) => String(name) is { } text ? IPAddress.Parse(text) : null;

    /// <summary>Applies the fault options, shared (<c>--delay</c>) or per direction (<c>--up-delay</c>, <c>--down-delay</c>).</summary>
    public EmulatedLinkOptions LinkOptions()
    {
        var options = new EmulatedLinkOptions
        {
            ServerAddress = Address("server-address"),
            ClientAddress = Address("client-address"),
            Seed = Number("seed") is { } seed ? (int)seed : null,
        };
        if (Number("rtt") is { } rtt)
        {
            options.WithRoundTripTime(TimeSpan.FromMilliseconds(rtt));
        }

        Apply(options.ToServer, "up");
        Apply(options.ToClient, "down");
        return options;
    }

    /// <summary>Fails on any option no command asked for, so a typo does not pass silently.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(key => !_used.Contains(key)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown.Select(key => "--" + key))}");
        }
    }

    private void Apply(LinkDirectionOptions direction, string prefix)
    {
        double? Either(string name) => Number($"{prefix}-{name}") ?? Number(name);

        if (Either("delay") is { } delay)
        {
            direction.Delay = TimeSpan.FromMilliseconds(delay);
        }

        if (Either("jitter") is { } jitter)
        {
            direction.Jitter = TimeSpan.FromMilliseconds(jitter);
        }

        direction.LossRate = Either("loss") ?? 0;
        direction.DuplicateRate = Either("duplicate") ?? 0;
        direction.ReorderRate = Either("reorder") ?? 0;
        if (Either("replay-after") is { } replay)
        {
            direction.ReplaySynWithDataAfter = TimeSpan.FromMilliseconds(replay);
        }
    }
}
