namespace KestrelTfo.EarlyData;

/// <summary>
/// A connection feature for a connection whose handshake had not completed when the transport handed it over: a TCP Fast
/// Open connection still in SYN_RECV (and, with TLS early data, a TLS handshake under way). A replay never completes it.
/// </summary>
internal interface IHandshakeCompletionFeature
{
    /// <summary>Gets a value indicating whether the handshake has completed now.</summary>
    bool IsCompleted { get; }

    /// <summary>Gets a task that says true once the handshake completes, false once it cannot.</summary>
    Task<bool> Completion { get; }

    /// <summary>Waits until the handshake completes (true) or cannot (false), as promptly as this kind of handshake allows.</summary>
    /// <param name="cancellationToken">Ends the wait; then it throws <see cref="OperationCanceledException"/>.</param>
    Task<bool> WaitAsync(CancellationToken cancellationToken);
}
