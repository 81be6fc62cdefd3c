using System.Net;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Hands every test server its own loopback address. Linux caches TFO cookies per destination address, so a
/// server on a fresh address meets clients that hold no cookie for it yet: its first connection is a cookie request.
/// </summary>
internal static class Loopback
{
    // A random second octet keeps repeated runs in one namespace (a developer's host) off each other's cookies.
    private static readonly int s_network = Random.Shared.Next(16, 250);
    private static int s_next;

    public static IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref s_next);
        return new IPAddress([127, (byte)s_network, (byte)(n >> 8), (byte)(n & 0xff)]);
    }
}
