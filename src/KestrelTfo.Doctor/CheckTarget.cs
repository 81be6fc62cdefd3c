using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace KestrelTfo.Doctor;

/// <summary>
/// A running server for <c>--check</c>: <c>HOST:PORT</c> (IPv6 in brackets) or <c>http://HOST[:PORT]</c> for a plaintext
/// endpoint, <c>https://HOST[:PORT]</c> for a TLS one, whose check sends a real ClientHello in the SYN.
/// </summary>
internal sealed record CheckTarget(string Host, int Port, bool Tls = false)
{
    public override string ToString()
    {
        var host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        return Tls ? $"https://{host}:{Port}" : $"{host}:{Port}";
    }

    public static bool TryParse(string text, [NotNullWhen(true)] out CheckTarget? target)
    {
        target = null;
        if (text.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0
                || uri.PathAndQuery != "/" || uri.UserInfo.Length > 0)
            {
                return false;
            }

            target = new CheckTarget(uri.Host.Trim('[', ']'), uri.Port, Tls: uri.Scheme == "https");
            return true;
        }

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
