using System.Net.Sockets;

namespace KestrelTfo.Platform;

/// <summary>The part of a connection's <c>TCP_INFO</c> that KestrelTfo reads, on either end.</summary>
/// <param name="State">The connection's TCP state.</param>
/// <param name="Options">The <c>tcpi_options</c> bits.</param>
/// <param name="BytesReceived">
/// <c>tcpi_bytes_received</c>: for a server's socket still in SYN_RECV, exactly the SYN's payload. Not FIONREAD
/// (<see cref="Socket.Available"/>): the kernel's <c>tcp_inq</c> reports 0 in SYN_RECV, the state a TCP Fast Open
/// connection is accepted in whenever the path has a real round trip. 0 before Linux 4.1, which lacks the field.
/// </param>
/// <param name="FastOpenClientFail">A client's <c>tcpi_fastopen_client_fail</c> (Linux 5.5), 0 where unknown.</param>
/// <param name="PathMtu"><c>tcpi_pmtu</c>, 0 where unknown.</param>
internal readonly record struct TcpConnectionInfo(TcpState State, byte Options, int BytesReceived, byte FastOpenClientFail, int PathMtu = 0)
{
    private const int LengthWithBytesReceived = LinuxTcp.InfoBytesReceivedOffset + sizeof(ulong);

    /// <summary>On a server's socket: the kernel accepted data in the SYN. On a client's: the SYN-ACK acknowledged it.</summary>
    public bool ReceivedSynData => (Options & LinuxTcp.OptSynData) != 0;

    /// <summary>
    /// A server's socket made by a SYN with a valid cookie, whose data the kernel may have accepted or refused (see
    /// <see cref="LinuxTcp.OptFastOpenChild"/> for which kernels say so).
    /// </summary>
    public bool IsFastOpenChild => (Options & LinuxTcp.OptFastOpenChild) != 0;

    /// <summary>
    /// The client acknowledged the server's SYN-ACK, so the connection is no replay: it is established, or in a state
    /// only an established connection reaches (FIN_WAIT2, CLOSING, TIME_WAIT need the peer to acknowledge a sequence
    /// number it could only learn from the SYN-ACK; CLOSE_WAIT and LAST_ACK need its FIN, which carries that ACK).
    /// FIN_WAIT1 does not count: a connection the server closes in SYN_RECV goes there without any ACK.
    /// </summary>
    public bool HandshakeCompleted => State is TcpState.Established or TcpState.FinWait2 or TcpState.Closing
        or TcpState.TimeWait or TcpState.CloseWait or TcpState.LastAck;

    /// <summary>Reads the connection's <c>TCP_INFO</c> (Linux only); allocation free.</summary>
    /// <exception cref="SocketException">The socket is not a TCP socket, or the OS has no <c>TCP_INFO</c>.</exception>
    /// <exception cref="ObjectDisposedException">The socket is closed.</exception>
    public static TcpConnectionInfo Read(Socket socket)
    {
        Span<byte> info = stackalloc byte[LengthWithBytesReceived];
        var length = socket.GetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpInfo, info);
        if (length <= LinuxTcp.InfoOptionsOffset)
        {
            return default;
        }

        var bytesReceived = length >= LengthWithBytesReceived
            ? (int)Math.Min(BitConverter.ToUInt64(info[LinuxTcp.InfoBytesReceivedOffset..]), int.MaxValue)
            : 0;
        var clientFail = length > LinuxTcp.InfoFastOpenClientFailOffset && BitConverter.IsLittleEndian
            ? (byte)((info[LinuxTcp.InfoFastOpenClientFailOffset] >> 1) & 0x3)
            : (byte)0;
        var pathMtu = length >= LinuxTcp.InfoPathMtuOffset + sizeof(uint) ? (int)Math.Min(BitConverter.ToUInt32(info[LinuxTcp.InfoPathMtuOffset..]), int.MaxValue) : 0;
        return new TcpConnectionInfo((TcpState)info[LinuxTcp.InfoStateOffset], info[LinuxTcp.InfoOptionsOffset], bytesReceived, clientFail, pathMtu);
    }
}
