namespace KestrelTfo.Internal;

/// <summary>Why the transport aborted a TCP Fast Open connection before its handshake completed.</summary>
internal enum HandshakeAbortReason
{
    /// <summary>Its handshake did not complete within <see cref="FastOpenTransportOptions.FastOpenHandshakeTimeout"/>.</summary>
    TimedOut,

    /// <summary>Its client held <see cref="FastOpenTransportOptions.MaxPendingHandshakesPerClient"/> such connections already.</summary>
    ClientLimit,
}
