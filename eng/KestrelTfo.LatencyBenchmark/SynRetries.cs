using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Bounds a client socket's connect: two SYN retries (about 7 s) instead of the kernel's six (about 2 minutes), so a
/// stalled link fails the run quickly instead of hanging a blocking connect that no cancellation token reaches.
/// </summary>
internal static class SynRetries
{
    private const int Retries = 2;

    /// <summary>Sets the bound on <paramref name="socket"/> and returns it; disposes it if the kernel refuses.</summary>
    public static Socket Limit(Socket socket)
    {
        try
        {
            socket.SetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpSynCount, BitConverter.GetBytes(Retries));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
