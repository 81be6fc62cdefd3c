namespace KestrelTfo.Client.Internal;

/// <summary>What became of a SYN that was meant to carry data, as the kernel reports it (Linux only).</summary>
internal enum FastOpenOutcome
{
    /// <summary>The platform does not say.</summary>
    Unknown,

    /// <summary>The server acknowledged the data in the SYN: the round trip was saved.</summary>
    DataAccepted,

    /// <summary>No cookie for this server yet: the SYN asked for one and the data followed the handshake.</summary>
    CookieRequested,

    /// <summary>The server did not accept the data (no TFO there, or a stale cookie); it was sent again after the handshake.</summary>
    DataNotAccepted,

    /// <summary>The SYN with data went unanswered and was retransmitted without it.</summary>
    SynRetransmitted,
}
