using System.Globalization;

namespace KestrelTfo.Platform;

/// <summary>
/// The Linux <c>net.ipv4.tcp_fastopen</c> sysctl, which is per network namespace, and its bits
/// (Documentation/networking/ip-sysctl.rst).
/// </summary>
internal static class LinuxFastOpenSysctl
{
    public const string Name = "net.ipv4.tcp_fastopen";
    public const string Path = "/proc/sys/net/ipv4/tcp_fastopen";

    public const int ClientBit = 0x1;

    /// <summary>
    /// The server bit. TFO_SERVER_WO_SOCKOPT1 (0x400) only applies to listeners when this bit is also set, so this bit
    /// alone decides whether the kernel accepts data in a SYN.
    /// </summary>
    public const int ServerBit = 0x2;

    /// <summary>
    /// The client sends data in a SYN without asking for a cookie (TFO_CLIENT_NO_COOKIE), which a server takes only
    /// with <see cref="ServerWithoutCookieBit"/>.
    /// </summary>
    public const int ClientWithoutCookieBit = 0x4;

    /// <summary>The server accepts data in a SYN without a cookie (TFO_SERVER_COOKIE_NOT_REQD).</summary>
    public const int ServerWithoutCookieBit = 0x200;

    public static bool TryRead(out int value, out string? error) => TryRead(Path, out value, out error);

    internal static bool TryRead(string path, out int value, out string? error)
    {
        value = 0;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }

        if (!TryParse(text, out value))
        {
            error = $"'{text.Trim()}' is not a number";
            return false;
        }

        error = null;
        return true;
    }

    public static bool TryParse(ReadOnlySpan<char> text, out int value) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    public static bool TryWrite(int value, out string? error) => TryWrite(Path, value, out error);

    internal static bool TryWrite(string path, int value, out string? error)
    {
        try
        {
            File.WriteAllText(path, value.ToString(CultureInfo.InvariantCulture));
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }
}
