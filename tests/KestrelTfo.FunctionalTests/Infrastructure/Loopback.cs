using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Hands every test server its own loopback address. Linux caches TFO cookies per destination address, so a
/// server on a fresh address meets clients that hold no cookie for it yet: its first connection is a cookie request.
/// </summary>
internal static class Loopback
{
    // A random second octet keeps repeated runs in one namespace (a developer's host) off each other's cookies.
    private static readonly int s_network = Random.Shared.Next(16, 250);

    // IPv6 has one loopback address, so each test gets an address of its own added to lo, from the benchmarking range
    // (2001:2::/48, RFC 5180), with a random block per run for the same reason as above.
    private static readonly int s_ipv6Block = Random.Shared.Next(1, 0xffff);
    private static int s_next;
    private static int s_nextIPv6;

    public static IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref s_next);
        return new IPAddress([127, (byte)s_network, (byte)(n >> 8), (byte)(n & 0xff)]);
    }

    /// <summary>
    /// An IPv6 address of this test's own on the namespace's loopback device: added to it, so only inside the private
    /// network namespace eng/test.sh makes (it goes with the namespace); elsewhere the test skips, or fails under CI.
    /// </summary>
    public static IPAddress NextIPv6Address()
    {
        FastOpenEnvironment.RequirePrivateNetworkNamespace();
        var n = Interlocked.Increment(ref s_nextIPv6);
        var address = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"2001:2:0:{s_ipv6Block:x}::{n:x}"));

        // nodad: usable at once, not after duplicate address detection (nothing else on lo could have it).
        var (exitCode, output) = ChildProcess.RunAsync("ip", ["-6", "addr", "add", $"{address}/128", "dev", "lo", "nodad"], TimeSpan.FromSeconds(10), CancellationToken.None)
            .GetAwaiter().GetResult();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"could not add {address} to lo: {output}");
        }

        return address;
    }

    /// <summary>
    /// A socket listening on a port the kernel chose, on an IPv4 address of its own, for a test that must name a port before
    /// its server binds it (a setting keyed by port): bind the server to that port on another address of the test's own
    /// while the socket lives. Nothing else can take the port there meanwhile: only a wildcard bind reaches the test's
    /// addresses, and the kernel refuses one on a port listened on here, SO_REUSEADDR or not (and never picks it for a bind
    /// to port 0 or a connect). Nothing connects to the address, so the listener accepts nothing.
    /// </summary>
    public static Socket HoldPort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(NextAddress(), 0));
            socket.Listen(1);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
