namespace KestrelTfo.Platform;

/// <summary>The part of <c>TCP_INFO</c> the transport reads for each accepted connection.</summary>
internal readonly record struct TcpConnectionInfo(TcpState State, bool ReceivedSynData, int BytesReceived)
{
    /// <summary>
    /// The three-way handshake has completed: the connection is established, or has moved on from there. A
    /// connection still in SYN_RECV has not; one that went straight to CLOSE was reset before it completed.
    /// </summary>
    public bool HandshakeCompleted => State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1
        or TcpState.FinWait2 or TcpState.Closing or TcpState.LastAck or TcpState.TimeWait;
}
