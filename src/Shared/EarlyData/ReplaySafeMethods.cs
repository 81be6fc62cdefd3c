namespace KestrelTfo.EarlyData;

/// <summary>
/// The methods a request may have to run before its connection's handshake completed, that is, possibly twice: GET,
/// HEAD and OPTIONS, safe by definition (RFC 9110, section 9.2.1) and so idempotent. TRACE is safe too, but echoes what
/// it receives and is off in most servers. The one list for both ends: what a client sends in a SYN, what a server
/// runs at once.
/// </summary>
internal static class ReplaySafeMethods
{
    /// <summary>Whether <paramref name="method"/> (case-sensitive, as HTTP methods are) is replay-safe.</summary>
    public static bool IsSafe(string method) => method is "GET" or "HEAD" or "OPTIONS";

    /// <summary>Whether the ASCII bytes of <paramref name="method"/> are a replay-safe method.</summary>
    public static bool IsSafe(ReadOnlySpan<byte> method) =>
        method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8) || method.SequenceEqual("OPTIONS"u8);
}
