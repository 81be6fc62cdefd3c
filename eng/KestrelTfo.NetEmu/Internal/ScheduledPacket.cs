namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// A packet waiting in the link, with when it was taken from the sender; copies (duplicates, replays) share the
/// bytes, which nobody changes.
/// </summary>
/// <param name="Bytes">What is written to the receiving device: the virtio header when the link has one, then the IP packet.</param>
/// <param name="PacketOffset">Where the IP packet starts in <paramref name="Bytes"/>.</param>
/// <param name="Taken">When the packet was read from the sender.</param>
/// <param name="IsReplay">A replay's copy, not the original.</param>
internal readonly record struct ScheduledPacket(byte[] Bytes, int PacketOffset, long Taken, bool IsReplay)
{
    public ReadOnlySpan<byte> Packet => Bytes.AsSpan(PacketOffset);
}
