namespace KestrelTfo.Platform;

/// <summary>Linux's TCP states, as <c>TCP_INFO</c>'s <c>tcpi_state</c> reports them (include/net/tcp_states.h).</summary>
internal enum TcpState : byte
{
    Unknown = 0,
    Established = 1,
    SynSent = 2,
    SynReceived = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
}
