using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.Internal;

/// <summary>
/// Whether a TCP Fast Open connection accepted in SYN_RECV has completed its three-way handshake since, as the kernel
/// says when asked (<c>TCP_INFO</c>). A completed handshake stays completed, so one positive answer is kept.
/// </summary>
internal sealed class TcpHandshakeState(Socket socket)
{
    private volatile bool _completed;

    /// <summary>Gets whether the handshake has completed; false for a connection that is gone, since nothing then says so.</summary>
    public bool HasCompleted
    {
        get
        {
            if (_completed)
            {
                return true;
            }

            try
            {
                return _completed = TcpConnectionInfo.Read(socket).HandshakeCompleted;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
