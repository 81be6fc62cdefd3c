using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.Client.Internal;

/// <summary>The per-socket side of client TCP Fast Open: switching it on or off, and asking the kernel how it went.</summary>
internal static class FastOpenClientSocket
{
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
                    FastOpenConnect.Set(socket, enabled: true);
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

    /// <summary>
    /// Makes sure a socket sends nothing in its SYN, whatever the socket factory that made it set: on Linux it clears
    /// <c>TCP_FASTOPEN_CONNECT</c> (a kernel without the option has nothing to clear). Elsewhere data goes in a SYN only
    /// through a connect with a buffer, which the normal path never uses.
    /// </summary>
    public static void EnsureNoDataInSyn(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            FastOpenConnect.Set(socket, enabled: false);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ProtocolOption or SocketError.OperationNotSupported or SocketError.ProtocolNotSupported)
        {
            // Before Linux 4.11 there is no TCP_FASTOPEN_CONNECT to clear.
        }
    }

    /// <summary>
    /// What became of the data meant for the SYN (Linux: <c>TCP_INFO</c>), once the connection is established, and the
    /// path MTU (0 where unknown).
    /// </summary>
    public static (FastOpenOutcome Outcome, int PathMtu) ReadOutcome(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (FastOpenOutcome.Unknown, 0);
        }

        TcpConnectionInfo info;
        try
        {
            info = TcpConnectionInfo.Read(socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return (FastOpenOutcome.Unknown, 0);
        }

        if (info.ReceivedSynData)
        {
            return (FastOpenOutcome.DataAccepted, info.PathMtu);
        }

        // tcpi_fastopen_client_fail (include/uapi/linux/tcp.h, enum tcp_fastopen_client_fail).
        var outcome = info.FastOpenClientFail switch
        {
            1 => FastOpenOutcome.CookieRequested,
            2 => FastOpenOutcome.DataNotAccepted,
            3 => FastOpenOutcome.SynRetransmitted,
            _ => FastOpenOutcome.Unknown,
        };
        return (outcome, info.PathMtu);
    }

    private static string Fix(FastOpenConnectMethod method)
    {
        if (method != FastOpenConnectMethod.FastOpenConnectOption)
        {
            return OperatingSystem.IsMacOS()
                ? "check that sysctl net.inet.tcp.fastopen has the client bit (1) set"
                : "TCP Fast Open needs Windows 10 1607 or later";
        }

        if (LinuxFastOpenSysctl.TryRead(out var value, out _) && (value & LinuxFastOpenSysctl.ClientBit) == 0)
        {
            return $"{LinuxFastOpenSysctl.Name} is {value} and lacks the client bit (1): sudo sysctl -w {LinuxFastOpenSysctl.Name}={value | LinuxFastOpenSysctl.ClientBit}";
        }

        // No sysctl to read: the kernel predates TFO or hides it; the kernel version is the fix.
        return "TCP_FASTOPEN_CONNECT needs Linux 4.11 or later";
    }
}
