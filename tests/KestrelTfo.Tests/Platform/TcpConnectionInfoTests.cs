using KestrelTfo.Platform;

namespace KestrelTfo.Tests.Platform;

public sealed class TcpConnectionInfoTests
{
    [Theory]
    [InlineData((byte)TcpState.Established, true)]
    [InlineData((byte)TcpState.FinWait2, true)]
    [InlineData((byte)TcpState.Closing, true)]
    [InlineData((byte)TcpState.TimeWait, true)]
    [InlineData((byte)TcpState.CloseWait, true)]
    [InlineData((byte)TcpState.LastAck, true)]
    [InlineData((byte)TcpState.SynReceived, false)]
    [InlineData((byte)TcpState.Close, false)]
    [InlineData((byte)TcpState.Unknown, false)]
    [InlineData((byte)TcpState.Listen, false)]
    [InlineData((byte)TcpState.SynSent, false)]
    public void Only_states_the_clients_ACK_leads_to_count_as_a_completed_handshake(byte state, bool completed) =>
        Assert.Equal(completed, new TcpConnectionInfo((TcpState)state, 0, 0, 0).HandshakeCompleted);

    [Fact]
    public void FIN_WAIT1_is_no_completed_handshake_since_a_server_that_closes_in_SYN_RECV_goes_there_without_any_ACK() =>
        Assert.False(new TcpConnectionInfo(TcpState.FinWait1, 0, 0, 0).HandshakeCompleted);

    [Theory]
    [InlineData(0x07, false, false)]
    [InlineData(0x87, false, true)]
    [InlineData(0xa7, true, true)]
    [InlineData(0x27, true, false)]
    public void The_options_say_whether_SYN_data_was_taken_and_whether_the_socket_is_a_TCP_Fast_Open_child(byte options, bool synData, bool child)
    {
        var info = new TcpConnectionInfo(TcpState.SynReceived, options, 0, 0);

        Assert.Equal(synData, info.ReceivedSynData);
        Assert.Equal(child, info.IsFastOpenChild);
    }
}
