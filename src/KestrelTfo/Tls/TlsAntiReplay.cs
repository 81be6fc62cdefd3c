using KestrelTfo.EarlyData;

namespace KestrelTfo.Tls;

/// <summary>
/// One instance's defence against replayed 0-RTT first flights (RFC 8446, section 8.2): early data is accepted for a
/// 0-RTT ClientHello at most once, because its pre_shared_key extension (which holds a binder computed over that very
/// ClientHello) is remembered for as long as OpenSSL would accept the ticket's early data again. Shared by all of an
/// app's endpoints, since configured ticket keys let a ticket from one resume on another.
/// </summary>
/// <param name="time">The app's clock.</param>
internal sealed class TlsAntiReplay(TimeProvider time)
{
    /// <summary>
    /// How long a replayed first flight could still find its early data accepted, with a margin. OpenSSL accepts it while
    /// the client's idea of the ticket's age (fixed in the captured ClientHello) is no more than 10 s behind the server's
    /// (TICKET_AGE_ALLOWANCE), the server's counted in whole seconds of the wall clock from a whole-second issue time: a
    /// span that approaches 12 s. Three more cover the wall clock being stepped back (OpenSSL's clock) while the
    /// record's, which is monotonic, is not.
    /// </summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most 0-RTT handshakes remembered: with <see cref="Window"/>, about 13,000 a second sustained. Beyond it,
    /// early data is declined (the request is served after the handshake), never accepted unchecked. About 115 bytes each
    /// with the tables' spare room (ReplayRecordBenchmarks measures it at 10,000 a second).
    /// </summary>
    public const int Capacity = 196_608;

    private readonly ReplayRecord _record = new(Window, Capacity, ReplayRecordFull.Refuse, time);
    private readonly long _started = time.GetTimestamp();

    /// <summary>Gets how many 0-RTT handshakes the record holds now.</summary>
    public int Count => _record.Count;

    /// <summary>Decides about one 0-RTT ClientHello, by its pre_shared_key extension; records it when its early data is accepted.</summary>
    /// <param name="preSharedKeyExtension">The ClientHello's pre_shared_key extension, binder included.</param>
    /// <param name="keysPredateStart">
    /// Whether the ticket keys may have been in use before this instance started (configured keys, shared with other
    /// instances or with its previous run): then a first flight accepted before the start may come again, and the record
    /// did not see it, so early data is declined until <see cref="Window"/> has passed since the start (RFC 8446,
    /// section 8.2). Keys of the instance's own are new with it: their tickets cannot predate it.
    /// </param>
    public TlsEarlyDataOutcome Decide(ReadOnlySpan<byte> preSharedKeyExtension, bool keysPredateStart)
    {
        if (keysPredateStart && time.GetElapsedTime(_started) < Window)
        {
            return TlsEarlyDataOutcome.RestartWindow;
        }

        return _record.Record(preSharedKeyExtension) switch
        {
            ReplayRecordResult.New => TlsEarlyDataOutcome.Accepted,
            ReplayRecordResult.Seen => TlsEarlyDataOutcome.Replay,
            _ => TlsEarlyDataOutcome.RecordFull,
        };
    }
}
