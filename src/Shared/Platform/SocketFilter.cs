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

    // Opcodes (include/uapi/linux/filter.h, bpf_common.h).
    public const ushort LoadByteAbsolute = 0x30;    // BPF_LD | BPF_B | BPF_ABS
    public const ushort LoadHalfAbsolute = 0x28;    // BPF_LD | BPF_H | BPF_ABS
    public const ushort LoadByteIndirect = 0x50;    // BPF_LD | BPF_B | BPF_IND
    public const ushort LoadLength = 0x80;          // BPF_LD | BPF_W | BPF_LEN
    public const ushort AndConstant = 0x54;         // BPF_ALU | BPF_AND | BPF_K
    public const ushort ShiftLeftConstant = 0x64;   // BPF_ALU | BPF_LSH | BPF_K
    public const ushort ShiftRightConstant = 0x74;  // BPF_ALU | BPF_RSH | BPF_K
    public const ushort SubtractX = 0x1c;           // BPF_ALU | BPF_SUB | BPF_X
    public const ushort CopyAToX = 0x07;            // BPF_MISC | BPF_TAX
    public const ushort CopyXToA = 0x87;            // BPF_MISC | BPF_TXA
    public const ushort JumpIfEqual = 0x15;         // BPF_JMP | BPF_JEQ | BPF_K
    public const ushort JumpIfAtLeast = 0x35;       // BPF_JMP | BPF_JGE | BPF_K
    public const ushort JumpIfAnySet = 0x45;        // BPF_JMP | BPF_JSET | BPF_K
    public const ushort JumpIfGreaterThanX = 0x2d;  // BPF_JMP | BPF_JGT | BPF_X
    public const ushort ReturnConstant = 0x06;      // BPF_RET | BPF_K: keep that many bytes of the segment
    public const ushort ReturnA = 0x16;             // BPF_RET | BPF_A

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
