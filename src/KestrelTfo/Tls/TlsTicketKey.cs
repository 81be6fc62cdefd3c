using System.Security.Cryptography;
using KestrelTfo.Platform;

namespace KestrelTfo.Tls;

/// <summary>
/// What a configured TLS session-ticket key is: 32 bytes of secret, written in hex or base64 as cookie keys are (and read
/// by their parser), from which the key name, the HMAC key and the AES key of OpenSSL's tickets are derived.
/// </summary>
/// <remarks>
/// Why 32 bytes, derived: a ticket is encrypted with AES-256-CBC and authenticated with HMAC-SHA256 (OpenSSL's own
/// scheme), so the secret carries the 256 bits either key needs; HKDF-SHA256 stretches it into independent keys, so one
/// value is all an operator handles (as with a cookie key), the AES key and the HMAC key are never the same bytes, and
/// the key name, which every ticket carries in clear, gives nothing of them away. Instances given the same secret derive
/// the same name, so each finds the other's tickets by name, and 16 bytes of name make two secrets' names clash with
/// odds of 2^-128.
/// </remarks>
internal static class TlsTicketKey
{
    /// <summary>The secret's length in bytes: <c>openssl rand -hex 32</c>.</summary>
    public const int Length = 32;

    /// <summary>The length of each derived key (AES-256, HMAC-SHA256).</summary>
    public const int DerivedKeyLength = 32;

    // Versioned, so that a change of scheme makes new names, and an instance on the old scheme starts full handshakes
    // instead of failing to decrypt tickets whose name it knows.
    private static readonly byte[] s_nameLabel = "KestrelTfo TLS ticket key v1: name"u8.ToArray();
    private static readonly byte[] s_hmacLabel = "KestrelTfo TLS ticket key v1: hmac-sha256"u8.ToArray();
    private static readonly byte[] s_aesLabel = "KestrelTfo TLS ticket key v1: aes-256-cbc"u8.ToArray();

    /// <summary>Parses one ticket key; on failure says why, without showing the key.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> secret, out string? problem) =>
        FastOpenCookieKey.TryParse(text, secret[..Length], "BackupTicketKey", out problem);

    /// <summary>Derives a ticket's key name, HMAC key and AES key from <paramref name="secret"/>.</summary>
    public static void Derive(ReadOnlySpan<byte> secret, Span<byte> name, Span<byte> hmacKey, Span<byte> aesKey)
    {
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, name, salt: default, s_nameLabel);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, hmacKey, salt: default, s_hmacLabel);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, aesKey, salt: default, s_aesLabel);
    }

    /// <summary>
    /// What makes a valid ticket key weak, or null when nothing does: all zeros (the first value anyone tries), one byte
    /// repeated, or 16 bytes written twice (a cookie key's length doubled, half the secret). Says which, never the key.
    /// </summary>
    /// <param name="setting">The option's name, for the message.</param>
    /// <param name="secret">The parsed key.</param>
    public static string? Weakness(string setting, ReadOnlySpan<byte> secret)
    {
        if (!secret.ContainsAnyExcept((byte)0))
        {
            return $"{setting} is all zeros, a key anyone can guess, so anyone can read the tickets this server issues and make tickets it takes";
        }

        if (!secret.ContainsAnyExcept(secret[0]))
        {
            return $"{setting} is one byte repeated, a key anyone can guess in 256 tries";
        }

        if (secret[..(Length / 2)].SequenceEqual(secret[(Length / 2)..]))
        {
            return $"{setting} is the same 16 bytes twice, so it holds half the secret of a key from `openssl rand -hex 32`";
        }

        return null;
    }
}
