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

    /// <summary>Times one handshake, the same way the socket client connects (blocking, so no thread hand-off is timed).</summary>
    public void Measure()
    {
        using var socket = _link.CreateClientSocket();
        var started = Stopwatch.GetTimestamp();
        socket.Connect(_endPoint);
        _samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
            // The listener was disposed.
        }
    }
}
