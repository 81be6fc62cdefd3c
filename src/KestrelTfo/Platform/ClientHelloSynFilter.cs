using System.Net.Sockets;
using KestrelTfo.EarlyData;
using static KestrelTfo.Platform.SocketFilter;

namespace KestrelTfo.Platform;

/// <summary>
/// A classic BPF program for a listening socket (Linux <c>SO_ATTACH_FILTER</c>) that makes the kernel refuse the data of
/// any SYN whose payload does not start like a TLS ClientHello. The kernel runs a socket filter on each incoming segment,
/// with the TCP header at offset 0, before it decides on a SYN's data (<c>tcp_filter</c> in <c>tcp_v4_rcv</c> and
/// <c>tcp_v6_rcv</c>); a program that returns a length shorter than the segment trims it, never below the TCP header.
/// </summary>
/// <remarks>
/// A SYN trimmed to its header still completes the connection under its cookie, but no data is acknowledged, so the
/// client's kernel sends that data again right after the SYN-ACK: the server sees it only once the handshake is complete,
/// which a replayed SYN never does, and the client retries nothing (there is no reset). The program looks at the first
/// <see cref="TlsClientHello.MinimumBytes"/> bytes only (record type, version major, handshake type); the user-space
/// guard still classifies whatever passes. Accepted sockets inherit the filter, where it returns at its third instruction
/// for every segment that is not a SYN. Needs no privilege.
/// </remarks>
internal static class ClientHelloSynFilter
{
    private const int Accept = 17;
    private const int Trim = 18;

    /// <summary>The program, encoded for <see cref="SocketFilter.Attach"/>.</summary>
    internal static readonly byte[] Program = Assemble();

    /// <summary>Attaches the filter to a listening socket, replacing any filter it had.</summary>
    /// <exception cref="SocketException">The kernel refused the program.</exception>
    public static void Attach(Socket socket) => SocketFilter.Attach(socket, Program);

    private static byte[] Assemble()
    {
        var program = new List<(ushort Code, byte JumpTrue, byte JumpFalse, uint K)>();
        void Emit(ushort code, uint k = 0) => program.Add((code, 0, 0, k));
        void Branch(ushort code, uint k, int whenTrue, int whenFalse)
        {
            // Jumps are relative to the next instruction.
            var next = program.Count + 1;
            program.Add((code, (byte)(whenTrue - next), (byte)(whenFalse - next), k));
        }

        const uint SynAndAck = TcpHeader.Syn | TcpHeader.Ack;
        Emit(LoadByteAbsolute, TcpHeader.FlagsOffset);                                  // 0: A = flags
        Emit(AndConstant, SynAndAck);                                                   // 1
        Branch(JumpIfEqual, TcpHeader.Syn, whenTrue: 3, whenFalse: Accept);             // 2: not a first SYN: keep it
        Emit(LoadByteAbsolute, TcpHeader.DataOffsetOffset);                             // 3: A = data offset << 4
        Emit(ShiftRightConstant, 2);                                                    // 4
        Emit(AndConstant, 0x3c);                                                        // 5: A = header length in bytes
        Emit(CopyAToX);                                                                 // 6: X = header length
        Emit(LoadLength);                                                               // 7
        Emit(SubtractX);                                                                // 8: A = payload length
        Branch(JumpIfEqual, 0, whenTrue: Accept, whenFalse: 10);                        // 9: no data: nothing to judge
        Branch(JumpIfAtLeast, TlsClientHello.MinimumBytes, whenTrue: 11, whenFalse: Trim); // 10: a load past the end would drop the SYN
        Emit(LoadByteIndirect, 0);                                                      // 11: record content type
        Branch(JumpIfEqual, TlsClientHello.HandshakeContentType, whenTrue: 13, whenFalse: Trim); // 12
        Emit(LoadByteIndirect, 1);                                                      // 13: record version major
        Branch(JumpIfEqual, TlsClientHello.MajorVersion, whenTrue: 15, whenFalse: Trim); // 14
        Emit(LoadByteIndirect, TlsClientHello.HandshakeTypeOffset);                      // 15: handshake type
        Branch(JumpIfEqual, TlsClientHello.ClientHelloHandshakeType, whenTrue: Accept, whenFalse: Trim); // 16
        Emit(ReturnConstant, uint.MaxValue);                                            // 17 (Accept): the whole segment
        Emit(CopyXToA);                                                                 // 18 (Trim): A = header length
        Emit(ReturnA);                                                                  // 19: the header alone

        return SocketFilter.Encode([.. program]);
    }
}
