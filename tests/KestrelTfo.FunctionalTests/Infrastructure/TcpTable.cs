using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Reads the kernel's socket tables (<c>/proc/net/tcp</c>, <c>tcp6</c>) of this network namespace.</summary>
internal static class TcpTable
{
    private const string SynSent = "02";
    private const string SynReceived = "03";
    private const string TimeWait = "06";
    private const string Established = "01";
    private const string CloseWait = "08";

    /// <summary>How many sockets are still trying to connect to <paramref name="remote"/>.</summary>
    public static int CountSynSent(IPEndPoint remote) =>
        Sockets(remote.AddressFamily).Count(fields => fields[2] == Key(remote) && fields[3] == SynSent);

    /// <summary>
    /// How many sockets connected to <paramref name="remote"/> their owner has not closed yet (established, or closed by
    /// the other end only): a client's connections to a server, until the client lets go of them.
    /// </summary>
    public static int CountOpenTo(IPEndPoint remote) =>
        Sockets(remote.AddressFamily).Count(fields => fields[2] == Key(remote) && fields[3] is Established or CloseWait);

    /// <summary>How many sockets have <paramref name="local"/> as their own address, in any state but TIME_WAIT.</summary>
    public static int CountLocal(IPEndPoint local) =>
        Sockets(local.AddressFamily).Count(fields => fields[1] == Key(local) && fields[3] != TimeWait);

    /// <summary>The kernel's state numbers (hex, as in <c>/proc/net/tcp</c>) of the sockets <see cref="CountLocal"/> counts.</summary>
    public static string DescribeLocal(IPEndPoint local) =>
        string.Join(' ', Sockets(local.AddressFamily).Where(fields => fields[1] == Key(local) && fields[3] != TimeWait).Select(fields => fields[3]));

    /// <summary>
    /// How many sockets have <paramref name="local"/> as their own address, in any state but TIME_WAIT, leaving out the
    /// kernel's requests for SYNs it answered (SYN_RECV without a socket of their own, inode 0), which are no sockets yet.
    /// </summary>
    public static int CountLocalSockets(IPEndPoint local) =>
        Sockets(local.AddressFamily).Count(fields => fields[1] == Key(local) && fields[3] != TimeWait && !(fields[3] == SynReceived && fields[9] == "0"));

    /// <summary>
    /// Waits, at most <paramref name="limit"/>, until no socket is trying to connect to <paramref name="remote"/>,
    /// and returns how many still are.
    /// </summary>
    public static async Task<int> WaitForNoSynSentAsync(IPEndPoint remote, TimeSpan limit)
    {
        await Bounded.UntilAsync(() => CountSynSent(remote) == 0, limit, CancellationToken.None);
        return CountSynSent(remote);
    }

    // Each line's fields: slot, local address, remote address, state, queues, timer, retransmits, uid, timeouts, inode, ...
    private static IEnumerable<string[]> Sockets(AddressFamily family) =>
        File.ReadLines(family == AddressFamily.InterNetwork ? "/proc/net/tcp" : "/proc/net/tcp6")
            .Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static string Key(IPEndPoint endPoint) => $"{Hex(endPoint.Address)}:{endPoint.Port:X4}";

    // The kernel prints each 32-bit word of the address in host byte order.
    private static string Hex(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return string.Concat(Enumerable.Range(0, bytes.Length / 4)
            .Select(i => BitConverter.ToUInt32(bytes, i * 4).ToString("X8", CultureInfo.InvariantCulture)));
    }
}
