using System.Net.Sockets;
using KestrelTfo.EarlyData;
using KestrelTfo.Platform;

namespace KestrelTfo.Internal;

/// <summary>
/// The three-way handshake of a TCP Fast Open connection accepted in SYN_RECV: the watcher's verdict, and, until that
/// comes (it asks at intervals), the kernel's word now.
/// </summary>
internal sealed class TcpHandshakeCompletion(Socket socket, Task<bool> completion) : IHandshakeCompletionFeature
{
    private volatile bool _completed;

    public Task<bool> Completion => completion;

    public bool IsCompleted
    {
        get
        {
            if (_completed || (completion.IsCompletedSuccessfully && completion.Result))
            {
                return true;
            }

            try
            {
                // A completed handshake stays completed, so one positive answer is kept.
                return _completed = TcpConnectionInfo.Read(socket).HandshakeCompleted;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
