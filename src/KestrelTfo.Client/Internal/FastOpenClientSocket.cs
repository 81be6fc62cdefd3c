using System.Globalization;
using System.Net.Sockets;

namespace KestrelTfo.Client.Internal;

/// <summary>The per-socket side of client TCP Fast Open: switching it on, and asking the kernel how it went.</summary>
internal static class FastOpenClientSocket
{
    private const int SolTcp = 6;
    private const int TcpInfo = 11;
    private const int TcpFastOpenConnect = 30;
    private const int TcpInfoOptionsOffset = 5;
    private const int TcpInfoFastOpenFailOffset = 7;
    private const byte TcpiOptSynData = 0x20;
    private const string SysctlPath = "/proc/sys/net/ipv4/tcp_fastopen";

    /// <summary>
    /// The way this platform sends data in a SYN. Linux sets <c>TCP_FASTOPEN_CONNECT</c> itself rather than take .NET's
    /// buffer-with-connect route, which on Linux sets that same option only when the socket also carries the listener
    /// option <c>TCP_FASTOPEN</c>, and ignores a failure to set it, so nobody would learn that TFO was off.
    /// </summary>
    public static FastOpenConnectMethod PlatformMethod { get; } =
        OperatingSystem.IsLinux() ? FastOpenConnectMethod.FastOpenConnectOption
        : OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? FastOpenConnectMethod.ConnectWithData
        : FastOpenConnectMethod.None;

    /// <summary>
    /// Switches TCP Fast Open on for a socket that is about to connect; on failure says why and how to fix it.
    /// </summary>
    public static bool TryEnable(Socket socket, FastOpenConnectMethod method, out string problem, out string fix)
    {
        try
        {
            switch (method)
            {
                case FastOpenConnectMethod.FastOpenConnectOption:
                    socket.SetRawSocketOption(SolTcp, TcpFastOpenConnect, BitConverter.GetBytes(1));
                    break;
                case FastOpenConnectMethod.ConnectWithData:
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen, 1);
                    break;
                default:
                    problem = $"{Environment.OSVersion.Platform} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}) has no client TCP Fast Open that .NET can use";
                    fix = "nothing to do";
                    return false;
            }
        }
        catch (SocketException e)
        {
            problem = $"the socket option was refused ({e.SocketErrorCode}: {e.Message})";
            fix = Fix(method);
            return false;
        }

        problem = fix = string.Empty;
        return true;
    }

    /// <summary>What became of the data meant for the SYN (Linux: <c>TCP_INFO</c>), once the connection is established.</summary>
    public static FastOpenOutcome ReadOutcome(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return FastOpenOutcome.Unknown;
        }

        Span<byte> info = stackalloc byte[8];
        int length;
        try
        {
            length = socket.GetRawSocketOption(SolTcp, TcpInfo, info);
        }
        catch (SocketException)
        {
            return FastOpenOutcome.Unknown;
        }

        if (length > TcpInfoOptionsOffset && (info[TcpInfoOptionsOffset] & TcpiOptSynData) != 0)
        {
            return FastOpenOutcome.DataAccepted;
        }

        // tcpi_fastopen_client_fail (Linux 5.5+) is a two-bit field after tcpi_delivery_rate_app_limited, which
        // little-endian compilers put in the low bits of the byte.
        if (length <= TcpInfoFastOpenFailOffset || !BitConverter.IsLittleEndian)
        {
            return FastOpenOutcome.Unknown;
        }

        return ((info[TcpInfoFastOpenFailOffset] >> 1) & 0x3) switch
        {
            1 => FastOpenOutcome.CookieRequested,
            2 => FastOpenOutcome.DataNotAccepted,
            3 => FastOpenOutcome.SynRetransmitted,
            _ => FastOpenOutcome.Unknown,
        };
    }

    private static string Fix(FastOpenConnectMethod method)
    {
        if (method != FastOpenConnectMethod.FastOpenConnectOption)
        {
            return OperatingSystem.IsMacOS()
                ? "check that sysctl net.inet.tcp.fastopen has the client bit (1) set"
                : "TCP Fast Open needs Windows 10 1607 or later";
        }

        try
        {
            var value = int.Parse(File.ReadAllText(SysctlPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            if ((value & 0x1) == 0)
            {
                return $"net.ipv4.tcp_fastopen is {value} and lacks the client bit (1): sudo sysctl -w net.ipv4.tcp_fastopen={value | 0x1}";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            // No sysctl to read: the kernel predates TFO or hides it; the kernel version is the fix.
        }

        return "TCP_FASTOPEN_CONNECT needs Linux 4.11 or later";
    }
}
