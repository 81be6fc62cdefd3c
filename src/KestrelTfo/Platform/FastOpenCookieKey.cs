using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;

namespace KestrelTfo.Platform;

/// <summary>
/// Parses TCP Fast Open cookie keys as configuration carries them. A key is 16 bytes, written as 32 hex digits or in
/// base64 (the bytes in order), or in the kernel's own form, which <c>net.ipv4.tcp_fastopen_key</c> reads and prints.
/// The same parser reads keys of other lengths (TLS ticket keys) in hex or base64, so that every key the options take
/// is written, checked and described alike.
/// </summary>
/// <remarks>
/// The kernel's form is four 32-bit words, <c>%x-%x-%x-%x</c>, each stored in the machine's byte order
/// (<c>proc_tcp_fastopen_key</c> in net/ipv4/sysctl_net_ipv4.c): on x86-64 and arm64 the text
/// <c>00010203-...</c> is the bytes <c>03 02 01 00 ...</c>. Read that way, a key copied from the sysctl of one host
/// makes the same cookies on a listener here, so a fleet can mix hosts keyed through the sysctl with KestrelTfo apps.
/// </remarks>
internal static class FastOpenCookieKey
{
    public const int Length = 16;

    private const int Words = Length / sizeof(uint);

    /// <summary>Parses one cookie key; on failure says why, without showing the key.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> key, out string? problem) =>
        TryParse(text, key, "BackupCookieKey", out problem);

    /// <summary>
    /// Parses one key of <paramref name="key"/>'s length, in hex or base64, and for a cookie key's length in the kernel's
    /// form too; on failure says why, without showing the key.
    /// </summary>
    /// <param name="text">The key as configured.</param>
    /// <param name="key">Receives the key; its length is the key's.</param>
    /// <param name="backupSetting">Where the second of two keys given together belongs, for the message.</param>
    /// <param name="problem">Why the text is no key, or null.</param>
    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> key, string backupSetting, out string? problem)
    {
        text = text.Trim();
        problem = null;
        var length = key.Length;

        // The kernel's form is four 32-bit words: it writes a cookie key, and no key of any other length.
        var kernelForm = length == Length;
        if (text.Contains(','))
        {
            problem = $"holds two keys, as the sysctl prints a primary and a backup key; put the second one in {backupSetting}";
            return false;
        }

        if (kernelForm && text.Contains('-'))
        {
            if (TryParseKernelForm(text, key))
            {
                return true;
            }

            problem = "is not the kernel's form of four 32-bit hex words, xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx";
            return false;
        }

        if (text.Length == 2 * length && Convert.FromHexString(text, key, out _, out var written) == OperationStatus.Done && written == length)
        {
            return true;
        }

        if (Base64.IsValid(text, out var decodedLength) && decodedLength == length
            && Convert.TryFromBase64Chars(text, key, out written) && written == length)
        {
            return true;
        }

        problem = kernelForm
            ? $"must be {length} bytes written as {2 * length} hex digits, in base64, or in the kernel's form " +
              $"xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx, but the value given ({text.Length} characters) is none of these"
            : $"must be {length} bytes written as {2 * length} hex digits (`openssl rand -hex {length}`) or in base64 " +
              $"(`openssl rand -base64 {length}`), but the value given ({text.Length} characters) is neither";
        return false;
    }

    /// <summary>
    /// The value for <c>TCP_FASTOPEN_KEY</c>: the primary key, followed by the backup key when there is one. Null when
    /// no key is configured.
    /// </summary>
    /// <exception cref="FormatException">A key does not parse (the options validator reports which, and why).</exception>
    public static byte[]? ToSocketOption(string? primary, string? backup)
    {
        if (string.IsNullOrWhiteSpace(primary))
        {
            return null;
        }

        var hasBackup = !string.IsNullOrWhiteSpace(backup);
        var keys = new byte[hasBackup ? 2 * Length : Length];
        if (!TryParse(primary, keys.AsSpan(0, Length), out _) || (hasBackup && !TryParse(backup, keys.AsSpan(Length), out _)))
        {
            throw new FormatException("A TCP Fast Open cookie key does not parse.");
        }

        return keys;
    }

    /// <summary>
    /// What makes keys for <c>TCP_FASTOPEN_KEY</c> weak, or null when nothing does: an all-zero key (the first value
    /// anyone tries, so cookies under it can be forged) or a backup key equal to the primary one (a rotation that
    /// forgot to change the key, so the old cookies it was meant to keep are not kept). Says which, never the key.
    /// </summary>
    public static string? Weakness(ReadOnlySpan<byte> keys)
    {
        var primary = keys[..Length];
        var backup = keys.Length > Length ? keys[Length..] : default;
        if (!primary.ContainsAnyExcept((byte)0))
        {
            return "CookieKey is all zeros, a key anyone can guess, so anyone can make cookies this server takes";
        }

        if (!backup.IsEmpty && !backup.ContainsAnyExcept((byte)0))
        {
            return "BackupCookieKey is all zeros, a key anyone can guess, so anyone can make cookies this server takes";
        }

        if (!backup.IsEmpty && backup.SequenceEqual(primary))
        {
            return "BackupCookieKey is the same as CookieKey, so it keeps no cookie of an old key valid during a rotation";
        }

        return null;
    }

    // As the kernel's sscanf("%x-%x-%x-%x") reads it: four groups of 1 to 8 hex digits, each with an optional 0x, which
    // %x skips (the sysctl takes 0x1-0x2-0x3-0x4).
    private static bool TryParseKernelForm(ReadOnlySpan<char> text, Span<byte> key)
    {
        Span<Range> groups = stackalloc Range[Words + 1];
        if (text.Split(groups, '-') != Words)
        {
            return false;
        }

        for (var i = 0; i < Words; i++)
        {
            var group = text[groups[i]];
            if (group.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                group = group[2..];
            }

            if (group.Length is 0 or > 8 || !uint.TryParse(group, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var word))
            {
                return false;
            }

            // In the machine's byte order, as the kernel keeps the words it parsed.
            MemoryMarshal.Write(key[(i * sizeof(uint))..], word);
        }

        return true;
    }
}
