using KestrelTfo.EarlyData;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Decides from a connection's first write whether it may ride in the SYN, which a network can deliver twice: only when
/// the write is exactly one message that is safe to repeat. Anything it does not recognise takes the safe way (connect
/// first), so the rule only has to accept what SocketsHttpHandler and SslStream write, and nothing more.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="FirstWriteKind.TlsClientHello"/>: exactly one whole ClientHello (<see cref="TlsClientHello.IsExactlyOneClientHello"/>),
/// nothing after it.</item>
/// <item><see cref="FirstWriteKind.SafeRequest"/>: exactly one HTTP/1.x request head: <c>GET</c>, <c>HEAD</c> or <c>OPTIONS</c>
/// (case-sensitive), a request target, <c>HTTP/1.</c> and a digit; header lines of a token, a colon and a value of visible
/// characters, spaces and tabs, each line ended by CRLF; then the empty line, which must be the write's last two bytes.
/// Unsafe whatever the method: any byte after the head (a body, a pipelined request), a <c>Content-Length</c> other than
/// one <c>0</c>, any <c>Transfer-Encoding</c>, <c>Upgrade</c> (WebSocket, h2c) or <c>Expect</c>, and every line a lenient
/// server might read otherwise than a strict one (a bare CR or LF, whitespace before a colon, a folded line).</item>
/// </list>
/// </remarks>
internal static class FirstWrite
{
    public static FirstWriteKind Classify(ReadOnlySpan<byte> data)
    {
        if (TlsClientHello.IsExactlyOneClientHello(data))
        {
            return FirstWriteKind.TlsClientHello;
        }

        return IsExactlyOneSafeRequest(data, earlyData: false) ? FirstWriteKind.SafeRequest : FirstWriteKind.Other;
    }

    /// <summary>
    /// Whether a first write may go as TLS early data: exactly one safe request head, as for a SYN, and not one a proxy
    /// received as early data itself (an <c>Early-Data</c> field, RFC 8470 §5.2): sent early again, one replay upstream
    /// could become several.
    /// </summary>
    public static bool IsSafeEarlyData(ReadOnlySpan<byte> data) => IsExactlyOneSafeRequest(data, earlyData: true);

    private static bool IsExactlyOneSafeRequest(ReadOnlySpan<byte> data, bool earlyData)
    {
        var lineLength = Http1Syntax.RequestLineLength(data, bareLineFeed: false, out var methodLength);
        if (lineLength == 0 || !ReplaySafeMethods.IsSafe(data[..methodLength]))
        {
            return false;
        }

        var contentLengths = 0;
        var rest = data[lineLength..];
        while (true)
        {
            var end = rest.IndexOf("\r\n"u8);
            if (end < 0)
            {
                return false;
            }

            if (end == 0)
            {
                // The empty line ends the head, and must end the write.
                return rest.Length == 2;
            }

            if (!IsSafeField(rest[..end], earlyData, ref contentLengths))
            {
                return false;
            }

            rest = rest[(end + 2)..];
        }
    }

    // One header line without its CRLF: token ":" value, the value visible characters, spaces and tabs.
    private static bool IsSafeField(ReadOnlySpan<byte> line, bool earlyData, ref int contentLengths)
    {
        var nameLength = 0;
        while (nameLength < line.Length && Http1Syntax.IsTokenChar(line[nameLength]))
        {
            nameLength++;
        }

        if (nameLength == 0 || nameLength == line.Length || line[nameLength] != (byte)':')
        {
            return false;
        }

        var value = line[(nameLength + 1)..];
        foreach (var c in value)
        {
            if (c is < 0x20 and not (byte)'\t' or 0x7F)
            {
                return false;
            }
        }

        var name = line[..nameLength];
        if (Is(name, "transfer-encoding"u8) || Is(name, "upgrade"u8) || Is(name, "expect"u8) || (earlyData && Is(name, "early-data"u8)))
        {
            return false;
        }

        return !Is(name, "content-length"u8) || (++contentLengths == 1 && value.Trim(" \t"u8).SequenceEqual("0"u8));
    }

    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowerCase) => System.Text.Ascii.EqualsIgnoreCase(name, lowerCase);
}
