namespace KestrelTfo.NetEmu;

/// <summary>
/// A TCP segment the link carried: which way, between which ports, what it held, and when it left the sending side
/// and reached the receiving one, as <see cref="System.Diagnostics.Stopwatch"/> timestamps of this process.
/// </summary>
/// <param name="ToServer">Whether it went from the client to the server.</param>
/// <param name="SourcePort">The sender's port.</param>
/// <param name="DestinationPort">The receiver's port.</param>
/// <param name="Sequence">Its TCP sequence number: a retransmission repeats it.</param>
/// <param name="Syn">Whether it is a SYN (with or without ACK).</param>
/// <param name="PayloadLength">The bytes of payload it carried.</param>
/// <param name="Taken">When the link's reader took it from the sender's device: soon after the sender's kernel sent
/// it, so the reader's wake-up, a few tens of microseconds, counts as the sender's.</param>
/// <param name="Delivered">When the link began writing it to the receiver's device, after the link's delay: never
/// after the receiver could act on it.</param>
public readonly record struct TracedSegment(
    bool ToServer, int SourcePort, int DestinationPort, uint Sequence, bool Syn, int PayloadLength, long Taken, long Delivered)
{
    /// <summary>Gets the client's port, whichever way the segment went.</summary>
    public int ClientPort => ToServer ? SourcePort : DestinationPort;

    /// <summary>Gets whether the receiver must act on it: a SYN or data. A bare ACK or FIN asks nothing of anyone.</summary>
    public bool Significant => Syn || PayloadLength > 0;
}
