namespace KestrelTfo;

/// <summary>
/// What the transport's early-data guard did with a connection, as <see cref="IFastOpenFeature.EarlyDataAction"/>
/// reports it. Rejected and debounced connections never reach the application, so they have no value here.
/// </summary>
public enum EarlyDataAction
{
    /// <summary>Nothing to guard: no early data, or a TLS ClientHello, which is replay-safe.</summary>
    None = 0,

    /// <summary>
    /// The early data is not replay-safe and the connection went ahead at once (<see cref="EarlyDataPolicy.Flag"/>):
    /// this connection may be a replay of another one.
    /// </summary>
    Flagged = 1,

    /// <summary>
    /// The early data is not replay-safe, and the application saw it only after the handshake completed
    /// (<see cref="EarlyDataPolicy.Defer"/>), which a replayed SYN never does: this connection is not a replay.
    /// </summary>
    Deferred = 2,
}
