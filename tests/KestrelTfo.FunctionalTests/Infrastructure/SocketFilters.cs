using System.Net.Sockets;
using System.Runtime.InteropServices;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Socket filters an app might have set on its own listening socket, through the transport's CreateBoundListenSocket.</summary>
internal static class SocketFilters
{
    private const int SoLockFilter = 44;

    /// <summary>A filter that drops every segment: a socket with it never hears from its peer.</summary>
    public static void AttachDropAll(Socket socket) => Attach(socket, [0x06, 0x00, 0, 0, 0, 0, 0, 0]);

    /// <summary>
    /// Attaches a filter that keeps every segment whole and locks it (<c>SO_LOCK_FILTER</c>), so that no other filter can
    /// replace it: the transport's own attach then fails, as it would on a kernel that refuses socket filters.
    /// </summary>
    public static void AttachLockedAcceptAll(Socket socket)
    {
        // One instruction: BPF_RET | BPF_K, 0xffffffff.
        Attach(socket, [0x06, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        socket.SetRawSocketOption(LinuxTcp.SolSocket, SoLockFilter, BitConverter.GetBytes(1));
    }

    // A one-instruction program: BPF_RET | BPF_K with what to keep of each segment.
    private static void Attach(Socket socket, byte[] program)
    {
        var memory = Marshal.AllocHGlobal(program.Length);
        try
        {
            Marshal.Copy(program, 0, memory, program.Length);
            var fprog = new byte[2 * IntPtr.Size];
            MemoryMarshal.Write(fprog, (ushort)1);
            MemoryMarshal.Write(fprog.AsSpan(IntPtr.Size), memory);
            socket.SetRawSocketOption(LinuxTcp.SolSocket, LinuxTcp.SoAttachFilter, fprog);
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }
}
