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
    /// <see cref="EarlyDataAction.Flagged"/>. The request in its early data runs at once when its method is replay-safe
    /// (GET, HEAD, OPTIONS); any other waits for the handshake, or is answered 425, as
    /// <see cref="FastOpenTransportOptions.UnsafeEarlyDataRequests"/> and the endpoint's <see cref="IEarlyDataMetadata"/>
    /// say. A safe request keeps the saved round trip.
    /// </summary>
    Flag = 0,

    /// <summary>
    /// Early data that is not replay-safe reaches the application only once the three-way handshake has completed,
    /// which a replayed SYN never does (the real client answers the server's SYN-ACK with a reset). On Linux the kernel
    /// does it: a filter on the listening socket makes it refuse the data of a SYN that does not start like a TLS
    /// ClientHello, and the client sends that data again right after the handshake, as a connection without TCP Fast
    /// Open would. No connection is reset and nothing is retried; such a request costs what it costs without TCP Fast
    /// Open, while a ClientHello still rides in the SYN.
    /// </summary>
    Defer = 1,

    /// <summary>
    /// Obsolete: now the same as <see cref="Defer"/>. It used to reset the connection, which a client does not retry
    /// without TCP Fast Open, so every later request of a plaintext TCP Fast Open client failed; refusing the data in
    /// the kernel keeps a replay from the application without that cost.
    /// </summary>
    [Obsolete("Reject now behaves as Defer, which keeps early data from the application without resetting connections. Use Defer.")]
    Reject = 2,
}
