namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// A packet waiting in the link, with when it was taken from the sender; copies (duplicates, replays) share the
/// bytes, which nobody changes.
/// </summary>
internal readonly record struct ScheduledPacket(byte[] Bytes, long Taken, bool IsReplay);
