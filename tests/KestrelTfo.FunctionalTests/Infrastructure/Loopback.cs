using System.Globalization;
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
}
