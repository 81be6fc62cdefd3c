using System.Net.Sockets;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Internal;

/// <summary>
/// The three-way handshake of a TCP Fast Open connection accepted in SYN_RECV: the watcher's verdict, and, until that
/// comes (it asks at intervals), the kernel's word now.
/// </summary>
internal sealed class TcpHandshakeCompletion(Socket socket, Task<bool> completion) : IHandshakeCompletionFeature
{
    private readonly TcpHandshakeState _state = new(socket);

    public Task<bool> Completion => completion;

    public bool IsCompleted => (completion.IsCompletedSuccessfully && completion.Result) || _state.HasCompleted;
}
