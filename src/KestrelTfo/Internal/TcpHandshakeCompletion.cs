using System.Net.Sockets;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Internal;

/// <summary>
/// The three-way handshake of a TCP Fast Open connection accepted in SYN_RECV: the watcher's verdict, and, until that
/// comes (it asks at intervals), the kernel's word now.
/// </summary>
internal sealed class TcpHandshakeCompletion(Socket socket, Task<bool> completion) : IHandshakeCompletionFeature
{
    private static readonly TimeSpan s_firstLook = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_longestLook = TimeSpan.FromMilliseconds(4);

    private readonly TcpHandshakeState _state = new(socket);

    public Task<bool> Completion => completion;

    public bool IsCompleted => (completion.IsCompletedSuccessfully && completion.Result) || _state.HasCompleted;

    /// <summary>
    /// The watcher asks the kernel at intervals of up to 50 ms; a waiter asks more often itself, so what waits runs within
    /// a few milliseconds of the client's ACK.
    /// </summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        var interval = s_firstLook;
        while (!completion.IsCompleted)
        {
            if (IsCompleted)
            {
                return true;
            }

            await Task.WhenAny(completion, Task.Delay(interval, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, s_longestLook.Ticks));
        }

        return await completion.ConfigureAwait(false);
    }
}
