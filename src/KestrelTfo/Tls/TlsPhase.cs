namespace KestrelTfo.Tls;

/// <summary>Where a connection's TLS handshake stands once Kestrel has the connection.</summary>
internal enum TlsPhase
{
    /// <summary>Early data accepted and still arriving; answers go out as 0.5-RTT data.</summary>
    EarlyData,

    /// <summary>Early data ended (EndOfEarlyData); the client's Finished is still to come.</summary>
    AwaitingFinished,

    /// <summary>The handshake has completed.</summary>
    Established,
}
