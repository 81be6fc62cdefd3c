namespace KestrelTfo.Platform;

/// <summary>The parts of a TCP header (RFC 9293, section 3.1) that the listener's kernel filter and the link emulator read.</summary>
internal static class TcpHeader
{
    /// <summary>The byte whose high four bits are the data offset: the header's length in 32-bit words.</summary>
    public const int DataOffsetOffset = 12;

    /// <summary>The byte of control flags.</summary>
    public const int FlagsOffset = 13;

    public const int MinimumLength = 20;

    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Ack = 0x10;

    /// <summary>The header's length in bytes, from the data-offset byte.</summary>
    public static int Length(byte dataOffsetByte) => (dataOffsetByte >> 4) * 4;
}
