using System.Text;

namespace KestrelTfo.OpenSsl;

/// <summary>
/// OpenSSL's per-thread error queue, which .NET's own cryptography shares: <see cref="Clear"/> right before a call and
/// <see cref="Take"/> or <see cref="Check"/> right after it, on the same thread (no await in between), or a reason left by
/// someone else is blamed on the wrong call.
/// </summary>
internal static unsafe class OpenSslError
{
    public static void Clear() => Libcrypto.ERR_clear_error();

    /// <summary>Empties the queue and returns its reasons, oldest first, joined; null when it was empty.</summary>
    public static string? Take()
    {
        StringBuilder? reasons = null;
        Span<byte> buffer = stackalloc byte[256];
        for (var error = Libcrypto.ERR_get_error(); error != 0; error = Libcrypto.ERR_get_error())
        {
            fixed (byte* text = buffer)
            {
                Libcrypto.ERR_error_string_n(error, text, (nuint)buffer.Length);
            }

            var length = buffer.IndexOf((byte)0);
            reasons ??= new StringBuilder();
            if (reasons.Length > 0)
            {
                reasons.Append("; ");
            }

            reasons.Append(Encoding.ASCII.GetString(buffer[..(length < 0 ? buffer.Length : length)]));
        }

        return reasons?.ToString();
    }

    /// <summary>An exception for a failed <paramref name="call"/>, with the queue's reasons (which this empties).</summary>
    public static OpenSslException Exception(string call, string? detail = null) =>
        new($"{call} failed{(detail is null ? "" : $" ({detail})")}: {Take() ?? "OpenSSL gave no reason"}");

    /// <summary>Throws unless <paramref name="result"/> is 1, OpenSSL's usual success.</summary>
    public static void Check(int result, string call)
    {
        if (result != 1)
        {
            throw Exception(call);
        }
    }
}
