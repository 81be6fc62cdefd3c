using KestrelTfo.Platform;

namespace KestrelTfo.Testing;

/// <summary>
/// The kernel's TCP Fast Open counters of this network namespace, read through the product's own reader. They move with
/// every test's connections, so a test that asserts their moves belongs to the serial collection of counter tests.
/// </summary>
internal static class KernelCounters
{
    public static TcpFastOpenCounters Read()
    {
        using var netstat = new LinuxNetstat();
        Assert.True(netstat.TryRead(out var counters), netstat.Error);
        return counters;
    }
}
