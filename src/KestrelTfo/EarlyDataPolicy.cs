namespace KestrelTfo;

/// <summary>
/// What the transport does with a TCP Fast Open connection whose early data is not replay-safe: anything but a
/// TLS ClientHello, such as a plaintext HTTP request. Such data can reach the server twice, because the network
/// may duplicate or replay a SYN (RFC 7413, section 6), and each copy opens a connection of its own.
/// </summary>
public enum EarlyDataPolicy
{
    /// <summary>
    /// The connection proceeds at once; <see cref="IFastOpenFeature.EarlyDataAction"/> is
    /// <see cref="EarlyDataAction.Flagged"/>, so an endpoint can refuse a request that must not run twice (for
    /// example with 425 Too Early). Costs nothing and keeps the saved round trip.
    /// </summary>
    Flag = 0,

    /// <summary>
    /// The connection's input is held back from the application until the kernel reports the three-way handshake
    /// complete. A replayed SYN never completes it (the real client answers the server's SYN-ACK with a reset),
    /// so its bytes never reach the application. The response still leaves before the client's next round trip
    /// would have, but the saved round trip is spent waiting.
    /// </summary>
    Defer = 1,

    /// <summary>The connection is aborted before any of its bytes reach the application.</summary>
    Reject = 2,
}
