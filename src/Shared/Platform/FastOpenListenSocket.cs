using System.Net.Sockets;

namespace KestrelTfo.Platform;

/// <summary>The listener's side of TCP Fast Open on each OS: switching it on, and giving it cookie keys.</summary>
internal static class FastOpenListenSocket
{
    /// <summary>
    /// macOS rejects <c>TCP_FASTOPEN</c> on a socket that is not listening yet; every other OS wants it before
    /// <c>listen</c>, when the queue is sized.
    /// </summary>
    public static bool EnableAfterListen => OperatingSystem.IsMacOS();

    /// <summary>Only Linux reports per connection whether the SYN carried data (<c>TCP_INFO</c>).</summary>
    public static bool CanInspectConnections => OperatingSystem.IsLinux();

    /// <summary>Only Linux lets a listener carry its own cookie keys.</summary>
    public static bool SupportsCookieKeys => OperatingSystem.IsLinux();

    /// <summary>Switches TCP Fast Open on for a listening socket.</summary>
    /// <exception cref="SocketException">The OS refused.</exception>
    public static void Enable(Socket socket, int queueLength)
    {
        // Linux takes the queue length; macOS, FreeBSD and Windows take an on/off value and size the queue themselves.
        var value = OperatingSystem.IsLinux() ? queueLength : 1;
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen, value);
    }

    /// <summary>
    /// Gives a listener its own cookie keys (<c>TCP_FASTOPEN_KEY</c>): 16 bytes, or 32 for a primary and a backup key
    /// (Linux 5.3+). Takes effect for the next SYN, so it also rotates the keys of a live listener.
    /// </summary>
    /// <exception cref="SocketException">The kernel refused the keys.</exception>
    public static void SetCookieKeys(Socket socket, ReadOnlySpan<byte> keys) =>
        socket.SetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpFastOpenKey, keys);

    /// <summary>
    /// Whether a listener accepts data in SYNs that carry no cookie (<c>TCP_FASTOPEN_NO_COOKIE</c>, Linux 4.15+): then a
    /// SYN from a forged address can deliver a request. False where the option cannot be read.
    /// </summary>
    public static bool AcceptsDataWithoutCookie(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> value = stackalloc byte[sizeof(int)];
        try
        {
            return socket.GetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpFastOpenNoCookie, value) == sizeof(int)
                && BitConverter.ToInt32(value) != 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
