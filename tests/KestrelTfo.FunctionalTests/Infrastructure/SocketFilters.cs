using System.Net.Sockets;
using System.Runtime.InteropServices;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Socket filters an app might have set on its own listening socket, through the transport's CreateBoundListenSocket.</summary>
internal static class SocketFilters
{
    private const int SoLockFilter = 44;

    /// <summary>
    /// Attaches a filter that keeps every segment whole and locks it (<c>SO_LOCK_FILTER</c>), so that no other filter can
    /// replace it: the transport's own attach then fails, as it would on a kernel that refuses socket filters.
    /// </summary>
    public static void AttachLockedAcceptAll(Socket socket)
    {
        // One instruction: BPF_RET | BPF_K, 0xffffffff.
        byte[] program = [0x06, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff];
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

        socket.SetRawSocketOption(LinuxTcp.SolSocket, SoLockFilter, BitConverter.GetBytes(1));
    }
}
