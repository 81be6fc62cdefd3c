using System.Buffers.Binary;
using KestrelTfo.Platform;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>What the link needs of an IPv4 TCP segment: its ports, sequence number, flags and how much payload it carries.</summary>
internal readonly record struct TcpSegmentHeader(ushort SourcePort, ushort DestinationPort, uint Sequence, byte Flags, int PayloadLength)
{
    private const byte Tcp = 6;

    /// <summary>The packet a TFO client opens with: SYN without ACK, and a payload.</summary>
    public bool IsSynWithData => (Flags & (TcpHeader.Syn | TcpHeader.Ack)) == TcpHeader.Syn && PayloadLength > 0;

    /// <summary>Reads an IPv4 packet's TCP header; false for anything else, a fragment or a truncated packet.</summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out TcpSegmentHeader header)
    {
        header = default;
        if (packet.Length < 20 || packet[0] >> 4 != 4 || packet[9] != Tcp)
        {
            return false;
        }

        var ipHeaderLength = (packet[0] & 0x0f) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        // A fragment's offset or the more-fragments flag: not a whole segment.
        if (((packet[6] & 0x3f) | packet[7]) != 0 || ipHeaderLength < 20 || totalLength > packet.Length || totalLength < ipHeaderLength + TcpHeader.MinimumLength)
        {
            return false;
        }

        var tcp = packet[ipHeaderLength..totalLength];
        var tcpHeaderLength = TcpHeader.Length(tcp[TcpHeader.DataOffsetOffset]);
        if (tcpHeaderLength < TcpHeader.MinimumLength || tcpHeaderLength > tcp.Length)
        {
            return false;
        }

        header = new TcpSegmentHeader(
            BinaryPrimitives.ReadUInt16BigEndian(tcp),
            BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]),
            tcp[TcpHeader.FlagsOffset],
            tcp.Length - tcpHeaderLength);
        return true;
    }
}
