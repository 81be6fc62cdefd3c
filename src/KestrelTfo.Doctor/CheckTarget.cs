using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace KestrelTfo.Doctor;

/// <summary>The <c>host:port</c> of a running server for <c>--check</c>; an IPv6 address goes in brackets.</summary>
internal sealed record CheckTarget(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public static bool TryParse(string text, [NotNullWhen(true)] out CheckTarget? target)
    {
        target = null;
        string host;
        string port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
        }

        if (host.Length == 0 ||
            !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ||
            number is < 1 or > 65535)
        {
            return false;
        }

        target = new CheckTarget(host, number);
        return true;
    }
}
