using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KestrelTfo.Platform;

namespace KestrelTfo.Testing;

/// <summary>
/// Runs an encoded classic BPF program (<see cref="SocketFilter.Encode"/>) on a segment the way the kernel's socket filter
/// does (<c>net/core/filter.c</c>, classic semantics): 32-bit unsigned accumulator and index, a load past the end of the
/// packet ends the program with 0 (the segment is dropped), and the kernel keeps <c>min(result, length)</c> bytes.
/// Only the opcodes <see cref="SocketFilter"/> names are understood; any other fails the test, so a program that grows
/// past this subset cannot be judged by a guess.
/// </summary>
internal static class ClassicBpf
{
    /// <summary>How many bytes of <paramref name="packet"/> the program keeps (0 drops it).</summary>
    public static int Run(ReadOnlySpan<byte> program, ReadOnlySpan<byte> packet)
    {
        Assert.True(program.Length % SocketFilter.InstructionSize == 0, "a program is whole instructions");
        var count = program.Length / SocketFilter.InstructionSize;
        uint a = 0, x = 0;

        // Classic BPF jumps only forward, so the program ends after at most `count` steps.
        for (var pc = 0; pc < count; pc++)
        {
            var instruction = program.Slice(pc * SocketFilter.InstructionSize, SocketFilter.InstructionSize);
            var code = MemoryMarshal.Read<ushort>(instruction);
            var jumpTrue = instruction[2];
            var jumpFalse = instruction[3];
            var k = MemoryMarshal.Read<uint>(instruction[4..]);
            switch (code)
            {
                case SocketFilter.LoadByteAbsolute:
                    if (!TryLoad(packet, k, 1, out a))
                    {
                        return 0;
                    }

                    break;
                case SocketFilter.LoadHalfAbsolute:
                    if (!TryLoad(packet, k, 2, out a))
                    {
                        return 0;
                    }

                    break;
                case SocketFilter.LoadByteIndirect:
                    if (!TryLoad(packet, unchecked(x + k), 1, out a))
                    {
                        return 0;
                    }

                    break;
                case SocketFilter.LoadLength:
                    a = (uint)packet.Length;
                    break;
                case SocketFilter.AndConstant:
                    a &= k;
                    break;
                case SocketFilter.ShiftLeftConstant:
                    a = k >= 32 ? 0 : a << (int)k;
                    break;
                case SocketFilter.ShiftRightConstant:
                    a = k >= 32 ? 0 : a >> (int)k;
                    break;
                case SocketFilter.SubtractX:
                    a = unchecked(a - x);
                    break;
                case SocketFilter.CopyAToX:
                    x = a;
                    break;
                case SocketFilter.CopyXToA:
                    a = x;
                    break;
                case SocketFilter.JumpIfEqual:
                    pc += a == k ? jumpTrue : jumpFalse;
                    break;
                case SocketFilter.JumpIfAtLeast:
                    pc += a >= k ? jumpTrue : jumpFalse;
                    break;
                case SocketFilter.JumpIfAnySet:
                    pc += (a & k) != 0 ? jumpTrue : jumpFalse;
                    break;
                case SocketFilter.JumpIfGreaterThanX:
                    pc += a > x ? jumpTrue : jumpFalse;
                    break;
                case SocketFilter.ReturnConstant:
                    return Kept(k, packet.Length);
                case SocketFilter.ReturnA:
                    return Kept(a, packet.Length);
                default:
                    Assert.Fail($"instruction {pc} has opcode 0x{code:x2}, which this interpreter does not know");
                    break;
            }
        }

        // The kernel's checker refuses a program that can run off its end.
        Assert.Fail("the program ran off its end");
        return 0;
    }

    /// <summary>
    /// A TCP header as the filter sees it (the segment starts at the TCP header): source and destination ports, the
    /// given flags, and <paramref name="optionBytes"/> (a multiple of 4, 0 to 40) of options, NOP-padded.
    /// </summary>
    public static byte[] Segment(byte flags, int optionBytes, ReadOnlySpan<byte> payload)
    {
        Assert.True(optionBytes is >= 0 and <= 40 && optionBytes % 4 == 0, $"{optionBytes} bytes of options");
        var headerLength = TcpHeader.MinimumLength + optionBytes;
        var segment = new byte[headerLength + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(segment, 40_000);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), 443);
        segment[TcpHeader.DataOffsetOffset] = (byte)(headerLength / 4 << 4);
        segment[TcpHeader.FlagsOffset] = flags;
        segment.AsSpan(TcpHeader.MinimumLength, optionBytes).Fill(1); // NOP
        payload.CopyTo(segment.AsSpan(headerLength));
        return segment;
    }

    private static int Kept(uint result, int length) => (int)Math.Min(result, (uint)length);

    private static bool TryLoad(ReadOnlySpan<byte> packet, uint offset, int size, out uint value)
    {
        value = 0;
        if (offset > (uint)packet.Length || (uint)packet.Length - offset < (uint)size)
        {
            return false;
        }

        value = size == 1 ? packet[(int)offset] : BinaryPrimitives.ReadUInt16BigEndian(packet[(int)offset..]);
        return true;
    }
}
