using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Socket filters an app might have set on its own listening socket, through the transport's CreateBoundListenSocket.</summary>
internal static class SocketFilters
{
    /// <summary>A filter that drops every segment: a socket with it never hears from its peer.</summary>
    public static void AttachDropAll(Socket socket) => SocketFilter.Attach(socket, SocketFilter.Encode([(SocketFilter.ReturnConstant, 0, 0, 0)]));

    /// <summary>
    /// Attaches a filter that keeps every segment whole and locks it (<c>SO_LOCK_FILTER</c>), so that no other filter can
    /// replace it: the transport's own attach then fails, as it would on a kernel that refuses socket filters.
    /// </summary>
    public static void AttachLockedAcceptAll(Socket socket)
    {
        SocketFilter.Attach(socket, SocketFilter.Encode([(SocketFilter.ReturnConstant, 0, 0, uint.MaxValue)]));
        socket.SetRawSocketOption(LinuxTcp.SolSocket, LinuxTcp.SoLockFilter, BitConverter.GetBytes(1));
    }
}
