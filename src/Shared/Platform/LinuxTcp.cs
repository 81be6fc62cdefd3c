namespace KestrelTfo.Platform;

/// <summary>
/// Linux's numbers for TCP Fast Open: socket option levels and names (include/uapi/linux/tcp.h,
/// include/uapi/asm-generic/socket.h) and the parts of <c>struct tcp_info</c> that KestrelTfo reads.
/// </summary>
internal static class LinuxTcp
{
    public const int SolSocket = 1;
    public const int SolTcp = 6;

    /// <summary><c>SO_ATTACH_FILTER</c>: a classic BPF program that runs on every segment the socket receives.</summary>
    public const int SoAttachFilter = 26;

    /// <summary><c>SO_LOCK_FILTER</c>: the socket's filter can no longer be replaced or removed.</summary>
    public const int SoLockFilter = 44;

    /// <summary><c>TCP_SYNCNT</c>: how many times a connect sends its SYN again before it gives up.</summary>
    public const int TcpSynCount = 7;

    public const int TcpInfo = 11;

    /// <summary><c>TCP_FASTOPEN</c>, on a listener: the queue length of connections accepted before their handshake completes.</summary>
    public const int TcpFastOpen = 23;

    /// <summary><c>TCP_FASTOPEN_CONNECT</c> (Linux 4.11): connect returns at once and the first write goes out in the SYN.</summary>
    public const int TcpFastOpenConnect = 30;

    /// <summary><c>TCP_FASTOPEN_KEY</c>: a listener's own cookie keys, 16 bytes, or 32 with a backup key (Linux 5.3).</summary>
    public const int TcpFastOpenKey = 33;

    /// <summary><c>TCP_FASTOPEN_NO_COOKIE</c>: a listener that accepts data in any SYN, with or without a cookie.</summary>
    public const int TcpFastOpenNoCookie = 34;

    /// <summary><c>tcpi_state</c>, a <see cref="TcpState"/>.</summary>
    public const int InfoStateOffset = 0;

    /// <summary><c>tcpi_options</c>, a set of <c>TCPI_OPT_*</c> bits.</summary>
    public const int InfoOptionsOffset = 5;

    /// <summary>
    /// The byte that holds <c>tcpi_fastopen_client_fail</c> (Linux 5.5), two bits after
    /// <c>tcpi_delivery_rate_app_limited</c>, which little-endian compilers put in the low bits of the byte.
    /// </summary>
    public const int InfoFastOpenClientFailOffset = 7;

    /// <summary><c>tcpi_pmtu</c>: the path MTU.</summary>
    public const int InfoPathMtuOffset = 60;

    /// <summary><c>__u64 tcpi_bytes_received</c> (Linux 4.1).</summary>
    public const int InfoBytesReceivedOffset = 128;

    /// <summary>The server accepted the data in the SYN (on a server's socket), or acknowledged it (on a client's).</summary>
    public const byte OptSynData = 0x20;

    /// <summary>
    /// A server's socket that a SYN with a valid cookie created (a TCP Fast Open child), whether or not its data was
    /// accepted. Reported by newer kernels (seen on 6.18); older ones leave the bit clear.
    /// </summary>
    public const byte OptFastOpenChild = 0x80;
}
