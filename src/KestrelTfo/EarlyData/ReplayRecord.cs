using System.Security.Cryptography;

namespace KestrelTfo.EarlyData;

/// <summary>
/// Remembers, by hash, first flights seen within a window, to spot one arriving again: the ClientHellos of SYNs (the
/// transport's debouncer) and the 0-RTT ClientHellos whose early data the TLS layer accepted (RFC 8446, section 8.2).
/// A ClientHello holds 32 fresh random bytes and a 0-RTT one a binder unique to it, so only a duplicate or a replay
/// repeats one. Bounded: at most <see cref="Capacity"/> entries.
/// </summary>
/// <param name="window">How long a first flight is remembered.</param>
/// <param name="capacity">The most entries kept.</param>
/// <param name="whenFull">
/// What a new first flight does to a full record: forget the oldest, where a miss costs little (the debouncer), or be
/// turned away, where a miss would let a replay through (early data, which is then declined, never accepted unchecked).
/// </param>
/// <param name="time">The app's clock.</param>
internal sealed class ReplayRecord(TimeSpan window, int capacity, ReplayRecordFull whenFull, TimeProvider time)
{
    /// <summary>The transport's debouncer: 4,096 entries of 16 bytes.</summary>
    public const int DebouncerCapacity = 4096;

    private readonly long _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
    private readonly Dictionary<UInt128, long> _seen = new(Math.Min(capacity, DebouncerCapacity));
    private readonly Queue<(UInt128 Hash, long Timestamp)> _order = new(Math.Min(capacity, DebouncerCapacity));

    public TimeSpan Window => window;

    public int Capacity => capacity;

    /// <summary>Gets how many first flights are remembered now, expired ones included until the next <see cref="Record"/>.</summary>
    public int Count
    {
        get
        {
            lock (_seen)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Records <paramref name="firstFlight"/> and says whether it is new, was seen within the window, or found the record full.</summary>
    public ReplayRecordResult Record(ReadOnlySpan<byte> firstFlight)
    {
        // A cryptographic hash, truncated to 128 bits: an attacker must not be able to make a fresh first flight collide
        // with another client's and get that client's connection closed or its early data declined.
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(firstFlight, digest);
        var hash = BitConverter.ToUInt128(digest);
        var now = time.GetTimestamp();

        lock (_seen)
        {
            while (_order.TryPeek(out var oldest)
                && (now - oldest.Timestamp > _windowTicks || (whenFull == ReplayRecordFull.ForgetOldest && _order.Count >= capacity)))
            {
                _order.Dequeue();
                if (_seen.TryGetValue(oldest.Hash, out var stamp) && stamp == oldest.Timestamp)
                {
                    _seen.Remove(oldest.Hash);
                }
            }

            if (_seen.TryGetValue(hash, out var seenAt) && now - seenAt <= _windowTicks)
            {
                return ReplayRecordResult.Seen;
            }

            if (_order.Count >= capacity)
            {
                return ReplayRecordResult.Full;
            }

            _seen[hash] = now;
            _order.Enqueue((hash, now));
            return ReplayRecordResult.New;
        }
    }
}
