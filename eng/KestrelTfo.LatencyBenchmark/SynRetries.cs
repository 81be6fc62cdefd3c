using System.Net.Sockets;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Bounds a client socket's connect: two SYN retries (about 7 s) instead of the kernel's six (about 2 minutes), so a
/// stalled link fails the run quickly instead of hanging a blocking connect that no cancellation token reaches.
/// </summary>
internal static class SynRetries
{
    private const int IppProtoTcp = 6;
    private const int TcpSynCount = 7;
    private const int Retries = 2;

    /// <summary>Sets the bound on <paramref name="socket"/> and returns it; disposes it if the kernel refuses.</summary>
    public static Socket Limit(Socket socket)
    {
        try
        {
            socket.SetRawSocketOption(IppProtoTcp, TcpSynCount, BitConverter.GetBytes(Retries));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
