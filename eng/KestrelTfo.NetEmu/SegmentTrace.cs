namespace KestrelTfo.NetEmu;

/// <summary>
/// The TCP segments a link delivered, both ways: for a caller that wants to know which side a connection's time went
/// to (see <see cref="EmulatedLinkOptions.TraceCapacity"/>). Each is recorded as the link begins to write it, so one
/// whose write fails (logged) is in it too. Bounded: once full, further segments are counted in <see cref="Missed"/>
/// until <see cref="Drain"/> makes room.
/// </summary>
public sealed class SegmentTrace
{
    private readonly List<TracedSegment> _segments;
    private long _missed;

    internal SegmentTrace(int capacity)
    {
        Capacity = capacity;
        _segments = new List<TracedSegment>(capacity);
    }

    /// <summary>Gets how many segments the trace holds at most between drains.</summary>
    public int Capacity { get; }

    /// <summary>Gets how many segments were not recorded because the trace was full.</summary>
    public long Missed => Interlocked.Read(ref _missed);

    /// <summary>Returns the segments recorded since the last drain, and forgets them.</summary>
    /// <returns>The segments; the two directions' are interleaved about as they were delivered, so sort by
    /// <see cref="TracedSegment.Delivered"/> where order matters.</returns>
    public TracedSegment[] Drain()
    {
        lock (_segments)
        {
            var segments = _segments.ToArray();
            _segments.Clear();
            return segments;
        }
    }

    internal void Record(in TracedSegment segment)
    {
        lock (_segments)
        {
            if (_segments.Count < Capacity)
            {
                _segments.Add(segment);
                return;
            }
        }

        Interlocked.Increment(ref _missed);
    }
}
