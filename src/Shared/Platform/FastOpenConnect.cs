using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KestrelTfo.Platform;

/// <summary>
/// <c>TCP_FASTOPEN_CONNECT</c> (Linux 4.11), the one way every KestrelTfo client socket asks for TCP Fast Open: connect
/// fetches a cookie when the kernel holds none for the server, and otherwise returns at once, so that the first write
/// goes out in the SYN.
/// </summary>
internal static class FastOpenConnect
{
    /// <summary>Sets or clears <c>TCP_FASTOPEN_CONNECT</c> on a socket that has not connected yet.</summary>
    /// <exception cref="SocketException">The kernel refused the option (before Linux 4.11: <c>ENOPROTOOPT</c>).</exception>
    public static void Set(Socket socket, bool enabled)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(value, enabled ? 1 : 0);
        socket.SetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpFastOpenConnect, value);
    }
}
