using System.Net.Sockets;

namespace KestrelTfo.Platform;

/// <summary>
/// The per-socket side of TCP Fast Open: switching it on for a listener, and asking the kernel whether
/// an accepted connection's SYN carried data.
/// </summary>
internal static class FastOpenSocket
{
    private const int SolTcp = 6;
    private const int TcpInfo = 11;
    private const int TcpFastOpenKey = 33;
    private const int TcpFastOpenConnect = 30;
    private const int TcpInfoOptionsOffset = 5;

    // struct tcp_info's __u64 tcpi_bytes_received (Linux 4.1+), and where the struct has ended before it.
    private const int TcpInfoBytesReceivedOffset = 128;
    private const int TcpInfoWithBytesReceived = TcpInfoBytesReceivedOffset + sizeof(ulong);
    private const byte TcpiOptSynData = 0x20;

    /// <summary>
    /// macOS rejects <c>TCP_FASTOPEN</c> on a socket that is not listening yet; every other OS wants it
    /// before <c>listen</c>, when the queue is sized.
    /// </summary>
    public static bool EnableAfterListen => OperatingSystem.IsMacOS();

    /// <summary>Only Linux reports per connection whether the SYN carried data.</summary>
    public static bool CanInspectConnections => OperatingSystem.IsLinux();

    /// <summary>
    /// Switches TCP Fast Open on for a listening socket. Throws <see cref="SocketException"/> when the OS refuses.
    /// </summary>
    public static void EnableOnListener(Socket socket, int queueLength)
    {
        // Linux takes the queue length; macOS, FreeBSD and Windows take an on/off value and size the queue themselves.
        var value = OperatingSystem.IsLinux() ? queueLength : 1;
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen, value);
    }

    /// <summary>
    /// Makes a client socket a TCP Fast Open one (<c>TCP_FASTOPEN_CONNECT</c>, Linux 4.11+): connect fetches a cookie
    /// when the kernel holds none for the server, and otherwise returns at once, so that the first write goes out in
    /// the SYN. For the doctor, the benchmarks and the tests; applications use KestrelTfo.Client.
    /// </summary>
    public static void UseFastOpenConnect(Socket socket) => socket.SetRawSocketOption(SolTcp, TcpFastOpenConnect, [1, 0, 0, 0]);

    /// <summary>Only Linux lets a listener carry its own cookie keys.</summary>
    public static bool SupportsCookieKeys => OperatingSystem.IsLinux();

    /// <summary>
    /// Gives a listener its own cookie keys (<c>TCP_FASTOPEN_KEY</c>): 16 bytes, or 32 for a primary and a backup
    /// key (Linux 5.3+). Takes effect for the next SYN, so it also rotates the keys of a live listener.
    /// </summary>
    public static void SetCookieKeys(Socket socket, ReadOnlySpan<byte> keys) =>
        socket.SetRawSocketOption(SolTcp, TcpFastOpenKey, keys);

    /// <summary>Reads back the keys a listener makes and checks cookies with, primary first.</summary>
    public static int GetCookieKeys(Socket socket, Span<byte> keys) =>
        socket.GetRawSocketOption(SolTcp, TcpFastOpenKey, keys);

    /// <summary>
    /// Reads the connection's TCP state, whether the kernel accepted data in its SYN (<c>TCP_INFO</c>'s
    /// <c>tcpi_state</c> and <c>TCPI_OPT_SYN_DATA</c>), and the bytes received so far. Linux only; allocation free.
    /// </summary>
    /// <remarks>
    /// The byte count comes from <c>tcpi_bytes_received</c>, not <c>FIONREAD</c> (<see cref="Socket.Available"/>):
    /// the kernel's <c>tcp_inq</c> reports 0 for a socket in SYN_RECV, which is the state a TCP Fast Open
    /// connection is accepted in whenever the path has a real round trip. For such a socket the count is exactly
    /// the SYN's payload. Kernels before 4.1 lack the field, and then the count is 0.
    /// </remarks>
    public static TcpConnectionInfo ReadInfo(Socket socket)
    {
        Span<byte> info = stackalloc byte[TcpInfoWithBytesReceived];
        var length = socket.GetRawSocketOption(SolTcp, TcpInfo, info);
        if (length <= TcpInfoOptionsOffset)
        {
            return default;
        }

        var bytesReceived = length >= TcpInfoWithBytesReceived
            ? (int)Math.Min(BitConverter.ToUInt64(info[TcpInfoBytesReceivedOffset..]), int.MaxValue)
            : 0;
        return new TcpConnectionInfo((TcpState)info[0], (info[TcpInfoOptionsOffset] & TcpiOptSynData) != 0, bytesReceived);
    }
}
