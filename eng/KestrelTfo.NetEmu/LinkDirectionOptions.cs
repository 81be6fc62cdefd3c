namespace KestrelTfo.NetEmu;

/// <summary>What the link does to the packets travelling one way (client to server, or server to client).</summary>
public sealed class LinkDirectionOptions
{
    /// <summary>Gets or sets the one-way delay every packet gets.</summary>
    /// <remarks>Defaults to <see cref="TimeSpan.Zero"/>.</remarks>
    public TimeSpan Delay { get; set; }

    /// <summary>
    /// Gets or sets the jitter: each packet's delay is <see cref="Delay"/> plus a uniform random amount in
    /// [-Jitter, +Jitter] (never below zero). As with netem, packets whose delays differ enough can overtake.
    /// </summary>
    /// <remarks>Defaults to <see cref="TimeSpan.Zero"/>.</remarks>
    public TimeSpan Jitter { get; set; }

    /// <summary>Gets or sets the probability, 0 to 1, that a packet is dropped.</summary>
    /// <remarks>Defaults to 0.</remarks>
    public double LossRate { get; set; }

    /// <summary>Gets or sets the probability, 0 to 1, that a packet is delivered twice.</summary>
    /// <remarks>Defaults to 0.</remarks>
    public double DuplicateRate { get; set; }

    /// <summary>
    /// Gets or sets the probability, 0 to 1, that a packet skips the delay and so overtakes the packets still in
    /// flight (netem's reordering). Needs a <see cref="Delay"/> to have any effect.
    /// </summary>
    /// <remarks>Defaults to 0.</remarks>
    public double ReorderRate { get; set; }

    /// <summary>
    /// Gets or sets when to deliver, once more, an exact copy (same bytes, same addresses) of every IPv4 TCP SYN
    /// that carries data, counted from the original's delivery: a duplicated or replayed TFO SYN as RFC 7413 §6
    /// describes. <see langword="null"/> replays nothing.
    /// </summary>
    /// <remarks>Defaults to <see langword="null"/>.</remarks>
    public TimeSpan? ReplaySynWithDataAfter { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every IPv4 TCP SYN that carries data is dropped, as by a middlebox that
    /// does not let TCP Fast Open through: the client's kernel sends the SYN again without data after its retransmission
    /// timeout.
    /// </summary>
    /// <remarks>Defaults to <see langword="false"/>.</remarks>
    public bool DropSynWithData { get; set; }

    /// <inheritdoc/>
    public override string ToString() =>
        FormattableString.Invariant(
            $"delay {Delay.TotalMilliseconds} ms ± {Jitter.TotalMilliseconds} ms, loss {LossRate}, duplicate {DuplicateRate}, reorder {ReorderRate}, replay SYN with data {(ReplaySynWithDataAfter is { } replay ? $"after {replay.TotalMilliseconds} ms" : "off")}, drop SYN with data {(DropSynWithData ? "on" : "off")}");

    internal void Validate(string direction)
    {
        if (Delay < TimeSpan.Zero || Jitter < TimeSpan.Zero || ReplaySynWithDataAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(direction, "delays, jitter and replay times cannot be negative");
        }

        foreach (var (name, rate) in new[] { (nameof(LossRate), LossRate), (nameof(DuplicateRate), DuplicateRate), (nameof(ReorderRate), ReorderRate) })
        {
            if (!(rate is >= 0 and <= 1))
            {
                throw new ArgumentOutOfRangeException(direction, $"{direction}.{name} is {rate}; a probability is between 0 and 1");
            }
        }
    }
}
