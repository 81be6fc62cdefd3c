namespace KestrelTfo.NetEmu.Internal;

/// <summary>Recognises the packet a TFO client opens with: IPv4, TCP, SYN without ACK, and a payload.</summary>
internal static class TcpSynWithData
{
    private const byte Tcp = 6;
    private const byte Syn = 0x02;
    private const byte Ack = 0x10;

    public static bool Matches(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 20 || packet[0] >> 4 != 4 || packet[9] != Tcp)
        {
            return false;
        }

        var ipHeaderLength = (packet[0] & 0x0f) * 4;
        var totalLength = (packet[2] << 8) | packet[3];
        // A fragment's offset or the more-fragments flag: not a whole SYN.
        if (((packet[6] & 0x3f) | packet[7]) != 0 || ipHeaderLength < 20 || totalLength > packet.Length || totalLength < ipHeaderLength + 20)
        {
            return false;
        }

        var tcp = packet[ipHeaderLength..totalLength];
        var tcpHeaderLength = (tcp[12] >> 4) * 4;
        var flags = tcp[13];
        return (flags & (Syn | Ack)) == Syn && tcpHeaderLength >= 20 && tcp.Length > tcpHeaderLength;
    }
}
