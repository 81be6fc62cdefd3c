namespace KestrelTfo.NetEmu.Internal;

/// <summary>A packet waiting in the link; copies (duplicates, replays) share the bytes, which nobody changes.</summary>
internal readonly record struct ScheduledPacket(byte[] Bytes, bool IsReplay);
