using System.Security.Cryptography;

namespace KestrelTfo.EarlyData;

/// <summary>
/// Remembers recent ClientHellos that arrived in SYNs, by hash, to spot one arriving again within a window.
/// A ClientHello holds 32 fresh random bytes, so only a duplicated or replayed SYN repeats one. Bounded: at most
/// <see cref="Capacity"/> entries; when full, the oldest is forgotten first.
/// </summary>
/// <param name="window">How long a ClientHello is remembered.</param>
/// <param name="time">The app's clock.</param>
internal sealed class ClientHelloDebouncer(TimeSpan window, TimeProvider time)
{
    public const int Capacity = 4096;

    private readonly TimeProvider _time = time;
    private readonly long _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
    private readonly Dictionary<UInt128, long> _seen = new(Capacity);
    private readonly Queue<(UInt128 Hash, long Timestamp)> _order = new(Capacity);

    public TimeSpan Window => window;

    /// <summary>Records <paramref name="clientHello"/> and says whether it was already seen within the window.</summary>
    public bool IsDuplicate(ReadOnlySpan<byte> clientHello)
    {
        // A cryptographic hash, truncated to 128 bits: an attacker must not be able to make a fresh ClientHello
        // collide with another client's and get that client's connection closed.
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(clientHello, digest);
        var hash = BitConverter.ToUInt128(digest);
        var now = _time.GetTimestamp();

        lock (_seen)
        {
            while (_order.TryPeek(out var oldest) && (now - oldest.Timestamp > _windowTicks || _order.Count >= Capacity))
            {
                _order.Dequeue();
                if (_seen.TryGetValue(oldest.Hash, out var stamp) && stamp == oldest.Timestamp)
                {
                    _seen.Remove(oldest.Hash);
                }
            }

            if (_seen.TryGetValue(hash, out var seenAt) && now - seenAt <= _windowTicks)
            {
                return true;
            }

            _seen[hash] = now;
            _order.Enqueue((hash, now));
            return false;
        }
    }
}
