using System.Net.Sockets;
using KestrelTfo.NetEmu;

namespace KestrelTfo.Testing;

/// <summary>
/// Starts emulated links for tests, only where that is safe and possible: as root, inside the private network
/// namespace eng/test.sh makes (a link adds a device and an address to the server side, which is this process's
/// namespace). Elsewhere the test skips with the reason, or fails under CI.
/// </summary>
internal static class LinkEnvironment
{
    public static EmulatedLink Start(EmulatedLinkOptions options)
    {
        if (EmulatedLink.UnavailableReason is { } reason)
        {
            FastOpenEnvironment.SkipOrFail(reason);
        }

        FastOpenEnvironment.RequirePrivateNetworkNamespace();
        return EmulatedLink.Start(options);
    }

    /// <summary>
    /// A link that is slow toward the client (20 ms to the server, 200 ms back): a server has read, answered and logged
    /// a request in TLS early data well before the client's Finished comes, so it sees the request as early data
    /// whatever the machine's load.
    /// </summary>
    public static EmulatedLink StartSlowTowardClient() => Start(new EmulatedLinkOptions
    {
        ToServer = { Delay = TimeSpan.FromMilliseconds(20) },
        ToClient = { Delay = TimeSpan.FromMilliseconds(200) },
    });

    /// <summary>
    /// Reads datagrams until none has come for <paramref name="quiet"/>, or <paramref name="limit"/> have: bounded
    /// in count and, since every wait is, in time.
    /// </summary>
    public static List<byte[]> ReceiveUntilQuiet(Socket socket, TimeSpan quiet, int limit)
    {
        socket.ReceiveTimeout = (int)quiet.TotalMilliseconds;
        var received = new List<byte[]>();
        var buffer = new byte[2048];
        while (received.Count < limit)
        {
            try
            {
                var length = socket.Receive(buffer);
                received.Add(buffer[..length]);
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.TimedOut)
            {
                break;
            }
        }

        return received;
    }
}
