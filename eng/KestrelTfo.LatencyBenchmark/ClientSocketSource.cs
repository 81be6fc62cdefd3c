using System.Net.Sockets;
using KestrelTfo.NetEmu;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The sockets for one timed connection, made on the client side of the link: the first was made before the clock
/// started, any later one (a client's fallback) when asked for.
/// </summary>
/// <remarks>
/// The link's client namespace belongs to a thread of the emulator, and a socket made there costs a round of
/// cross-thread wake-ups (about 0.1 ms on this project's VM) that a client living in that namespace would not pay:
/// making the first socket ahead keeps that cost, which is the emulator's, out of what is measured. Making a socket
/// is one system call for a real client. Every socket has its connect bounded (see <see cref="SynRetries"/>).
/// </remarks>
internal sealed class ClientSocketSource : IDisposable
{
    private readonly EmulatedLink _link;
    private Socket? _ready;
    private int _disposed;

    public ClientSocketSource(EmulatedLink link)
    {
        _link = link;
        _ready = SynRetries.Limit(link.CreateClientSocket());
    }

    /// <summary>The socket made ahead the first time, a new one after that; the caller owns what it gets.</summary>
    /// <exception cref="ObjectDisposedException">The timed connection is over: an attempt that outlived it gets no socket.</exception>
    public Socket Take()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // A client's fallback may ask from another thread while its first attempt still runs.
        if (Interlocked.Exchange(ref _ready, null) is { } ready)
        {
            return ready;
        }

        return SynRetries.Limit(_link.CreateClientSocket());
    }

    /// <summary>Closes the socket made ahead if no client took it.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        Interlocked.Exchange(ref _ready, null)?.Dispose();
    }
}
