using System.Buffers;
using System.Buffers.Text;

namespace KestrelTfo.Platform;

/// <summary>
/// Parses TCP Fast Open cookie keys as configuration carries them: 16 bytes written as 32 hex digits
/// (optionally in the kernel's own <c>xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx</c> form) or in base64.
/// </summary>
internal static class FastOpenCookieKey
{
    public const int Length = 16;

    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> key)
    {
        text = text.Trim();

        // The kernel prints net.ipv4.tcp_fastopen_key as four dash-separated groups; accept a copy of that.
        if (text.Length == 2 * Length + 3 && text[8] == '-' && text[17] == '-' && text[26] == '-')
        {
            Span<char> hex = stackalloc char[2 * Length];
            text[..8].CopyTo(hex);
            text[9..17].CopyTo(hex[8..]);
            text[18..26].CopyTo(hex[16..]);
            text[27..].CopyTo(hex[24..]);
            return TryParseHex(hex, key);
        }

        if (text.Length == 2 * Length)
        {
            return TryParseHex(text, key);
        }

        return Base64.IsValid(text, out var decodedLength)
            && decodedLength == Length
            && Convert.TryFromBase64Chars(text, key, out var written)
            && written == Length;
    }

    private static bool TryParseHex(ReadOnlySpan<char> hex, Span<byte> key) =>
        Convert.FromHexString(hex, key, out _, out var written) == OperationStatus.Done && written == Length;

    /// <summary>
    /// The value for <c>TCP_FASTOPEN_KEY</c>: the primary key, followed by the backup key when there is one.
    /// Null when no key is configured.
    /// </summary>
    public static byte[]? ToSocketOption(string? primary, string? backup)
    {
        if (string.IsNullOrWhiteSpace(primary))
        {
            return null;
        }

        var hasBackup = !string.IsNullOrWhiteSpace(backup);
        var keys = new byte[hasBackup ? 2 * Length : Length];
        if (!TryParse(primary, keys.AsSpan(0, Length)) || (hasBackup && !TryParse(backup, keys.AsSpan(Length))))
        {
            throw new FormatException("A TCP Fast Open cookie key is not 16 bytes in hex or base64.");
        }

        return keys;
    }
}
