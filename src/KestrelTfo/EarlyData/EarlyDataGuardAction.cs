namespace KestrelTfo.EarlyData;

/// <summary>
/// What the guard did with a connection, as the <c>kestreltfo.early_data.guard</c> counter and the guard's logs name it
/// (<see cref="Metrics.GuardActionNames"/>).
/// </summary>
internal enum EarlyDataGuardAction
{
    /// <summary>Early data that is not replay-safe went to the application at once (<see cref="EarlyDataPolicy.Flag"/>).</summary>
    Flagged,

    /// <summary>Early data that is not replay-safe was held in the transport until the handshake completed.</summary>
    Deferred,

    /// <summary>The kernel's filter refused a SYN's data, which the client then sent after the handshake.</summary>
    KernelDeferred,

    /// <summary>A deferred connection's handshake did not complete within <c>FastOpenHandshakeTimeout</c>.</summary>
    DeferralTimedOut,

    /// <summary>A deferred connection left SYN_RECV without completing its handshake, as a replayed SYN does.</summary>
    DeferralReset,

    /// <summary>A ClientHello seen within <c>ClientHelloDebounceWindow</c> came again in a SYN; its connection was closed.</summary>
    Debounced,
}
