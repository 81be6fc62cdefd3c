using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Reads the kernel's socket tables (<c>/proc/net/tcp</c>, <c>tcp6</c>) of this network namespace.</summary>
internal static class TcpTable
{
    private const string SynSent = "02";

    /// <summary>How many sockets are still trying to connect to <paramref name="remote"/>.</summary>
    public static int CountSynSent(IPEndPoint remote)
    {
        var file = remote.AddressFamily == AddressFamily.InterNetwork ? "/proc/net/tcp" : "/proc/net/tcp6";
        var wanted = $"{Hex(remote.Address)}:{remote.Port:X4}";
        return File.ReadLines(file)
            .Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(fields => fields[2] == wanted && fields[3] == SynSent);
    }

    /// <summary>
    /// Waits, at most <paramref name="limit"/>, until no socket is trying to connect to <paramref name="remote"/>,
    /// and returns how many still are.
    /// </summary>
    public static async Task<int> WaitForNoSynSentAsync(IPEndPoint remote, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        int count;
        while ((count = CountSynSent(remote)) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return count;
    }

    // The kernel prints each 32-bit word of the address in host byte order.
    private static string Hex(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return string.Concat(Enumerable.Range(0, bytes.Length / 4)
            .Select(i => BitConverter.ToUInt32(bytes, i * 4).ToString("X8", CultureInfo.InvariantCulture)));
    }
}
