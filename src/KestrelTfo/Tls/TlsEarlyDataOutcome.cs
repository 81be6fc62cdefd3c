namespace KestrelTfo.Tls;

/// <summary>What became of the early data a client offered with its ClientHello.</summary>
internal enum TlsEarlyDataOutcome
{
    /// <summary>Accepted: it reached the app before the handshake completed.</summary>
    Accepted,

    /// <summary>Declined: the endpoint does not accept early data.</summary>
    Off,

    /// <summary>Declined: this 0-RTT ClientHello was seen within the replay window: a replay.</summary>
    Replay,

    /// <summary>Declined: the replay record is full, and unchecked early data is never accepted.</summary>
    RecordFull,

    /// <summary>Declined: the instance started less than a replay window ago with ticket keys that predate it.</summary>
    RestartWindow,

    /// <summary>
    /// Declined by OpenSSL though the ticket resumed: its age is outside the allowed window, the ticket allows none, the
    /// client's SNI, ALPN or cipher differ from the session's, it resumed with other than its first identity, or a
    /// HelloRetryRequest came between.
    /// </summary>
    DeclinedByOpenSsl,

    /// <summary>Declined by OpenSSL: the ticket did not resume (unknown key, expired, or from elsewhere); a full handshake followed.</summary>
    NotResumed,
}
