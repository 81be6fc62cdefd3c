using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.NetEmu;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Measures a link's round-trip time as TCP sees it, the way <c>ping</c> or <c>tcping</c> would: a plain connect to a
/// listener that the kernel answers alone (SYN out, SYN-ACK back), with no application, TLS or TFO in the path.
/// </summary>
/// <remarks>
/// The link's configured RTT is the sum of its two delays; the path also holds the forwarder's own time and both
/// kernels'. Counting round trips against the measured path keeps the emulator's overhead out of what is attributed
/// to the server, and the report shows the configured RTT beside it.
/// </remarks>
internal sealed class PathRoundTripProbe : IDisposable
{
    private readonly EmulatedLink _link;
    private readonly Socket _listener;
    private readonly IPEndPoint _endPoint;
    private readonly Task _accepting;

    private readonly List<double> _samples = [];
    private readonly byte[] _drain = new byte[1];

    public PathRoundTripProbe(EmulatedLink link)
    {
        _link = link;
        _listener = link.CreateServerSocket();
        _listener.Bind(new IPEndPoint(link.ServerAddress, 0));
        _listener.Listen(64);
        _endPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = AcceptAndCloseAsync();
    }

    /// <summary>The round trips measured so far, in milliseconds.</summary>
    public IReadOnlyList<double> Samples => _samples;

    /// <summary>
    /// Times one handshake with a blocking connect, as the socket client makes it, so no thread hand-off is timed;
    /// making the socket is left out, being no part of the path.
    /// </summary>
    public void Measure()
    {
        using var socket = SynRetries.Limit(_link.CreateClientSocket());
        socket.ReceiveTimeout = 10_000;
        var started = Stopwatch.GetTimestamp();
        socket.Connect(_endPoint);
        _samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        // Wait out the close, so its packets are not crossing the link while the next connection is timed.
        socket.Shutdown(SocketShutdown.Send);
        while (socket.Receive(_drain) > 0)
        {
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        // The accept loop ends with the listener; wait for it so no accepted socket outlives the probe.
        _accepting.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task AcceptAndCloseAsync()
    {
        try
        {
            while (true)
            {
                using var accepted = await _listener.AcceptAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Disposing the listener is how the probe stops this loop.
        }
    }
}
