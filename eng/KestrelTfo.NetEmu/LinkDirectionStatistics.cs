namespace KestrelTfo.NetEmu;

/// <summary>Counts of what happened to the packets travelling one way across a link, updated as it runs.</summary>
public sealed class LinkDirectionStatistics
{
    private long _received;
    private long _delivered;
    private long _dropped;
    private long _duplicated;
    private long _reordered;
    private long _replayed;

    /// <summary>Gets the packets the link read from the sending side.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Gets the packets the link wrote to the receiving side, duplicates and replays included.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Gets the packets dropped on purpose (<see cref="LinkDirectionOptions.LossRate"/>).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Gets the extra copies scheduled by <see cref="LinkDirectionOptions.DuplicateRate"/>.</summary>
    public long Duplicated => Volatile.Read(ref _duplicated);

    /// <summary>Gets the packets sent ahead of the delay by <see cref="LinkDirectionOptions.ReorderRate"/>.</summary>
    public long Reordered => Volatile.Read(ref _reordered);

    /// <summary>Gets the SYN-with-data copies already injected by <see cref="LinkDirectionOptions.ReplaySynWithDataAfter"/>.</summary>
    public long Replayed => Volatile.Read(ref _replayed);

    internal void OnReceived() => Interlocked.Increment(ref _received);

    internal void OnDelivered() => Interlocked.Increment(ref _delivered);

    internal void OnDropped() => Interlocked.Increment(ref _dropped);

    internal void OnDuplicated() => Interlocked.Increment(ref _duplicated);

    internal void OnReordered() => Interlocked.Increment(ref _reordered);

    internal void OnReplayed() => Interlocked.Increment(ref _replayed);

    /// <inheritdoc/>
    public override string ToString() =>
        $"received {Received}, delivered {Delivered}, dropped {Dropped}, duplicated {Duplicated}, reordered {Reordered}, replayed {Replayed}";
}
