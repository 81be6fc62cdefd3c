using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KestrelTfo.Platform;

/// <summary>
/// Classic BPF socket filters (Linux <c>SO_ATTACH_FILTER</c>): the kernel runs a socket's filter on every segment the
/// socket receives, with the TCP header at offset 0, and keeps as many bytes as the program returns.
/// </summary>
internal static class SocketFilter
{
    /// <summary>The size of one <c>struct sock_filter</c> instruction.</summary>
    public const int InstructionSize = 8;

    /// <summary>Lays out instructions as <c>struct sock_filter</c>s in the machine's byte order.</summary>
    public static byte[] Encode(ReadOnlySpan<(ushort Code, byte JumpTrue, byte JumpFalse, uint K)> program)
    {
        var bytes = new byte[program.Length * InstructionSize];
        for (var i = 0; i < program.Length; i++)
        {
            var (code, jumpTrue, jumpFalse, k) = program[i];
            var instruction = bytes.AsSpan(i * InstructionSize, InstructionSize);
            MemoryMarshal.Write(instruction, code);
            instruction[2] = jumpTrue;
            instruction[3] = jumpFalse;
            MemoryMarshal.Write(instruction[4..], k);
        }

        return bytes;
    }

    /// <summary>Attaches an encoded program to a socket, replacing any filter it had.</summary>
    /// <exception cref="SocketException">The kernel refused the program, or the socket's filter is locked.</exception>
    public static void Attach(Socket socket, byte[] program)
    {
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer is aligned to its size.
        var memory = Marshal.AllocHGlobal(program.Length);
        try
        {
            Marshal.Copy(program, 0, memory, program.Length);
            Span<byte> fprog = stackalloc byte[2 * IntPtr.Size];
            fprog.Clear();
            MemoryMarshal.Write(fprog, (ushort)(program.Length / InstructionSize));
            MemoryMarshal.Write(fprog[IntPtr.Size..], memory);

            // The kernel copies the program, so it may be freed as soon as the call returns.
            socket.SetRawSocketOption(LinuxTcp.SolSocket, LinuxTcp.SoAttachFilter, fprog);
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }
}
