using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace KestrelTfo.Testing;

/// <summary>
/// The kernel facts tests depend on, and the one rule for when they are missing, in every test project: skip with the
/// reason, except under CI (<c>CI=true</c>), where a skipped test would hide a broken set-up and so fails.
/// </summary>
internal static class FastOpenEnvironment
{
    private const string SysctlPath = "/proc/sys/net/ipv4/tcp_fastopen";

    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or fails under CI) unless this network namespace has TFO on for clients and servers.</summary>
    public static void RequireClientAndServerBits()
    {
        var value = ReadSysctlOrSkip();
        if ((value & 0x3) != 0x3)
        {
            SkipOrFail(
                $"net.ipv4.tcp_fastopen is {value}; this test needs the client and server bits (3). " +
                "Run eng/test.sh as root: it runs the tests in a private network namespace with them set.");
        }
    }

    /// <summary>
    /// Sets <c>net.ipv4.tcp_fastopen</c> until the scope is disposed. Only inside a network namespace made for the
    /// tests: anywhere else it would change the host's setting. Tests that use it belong to the serial collection of sysctl tests.
    /// </summary>
    public static SysctlScope SetSysctl(int value)
    {
        RequirePrivateNetworkNamespace();
        var previous = ReadSysctlOrSkip();
        File.WriteAllText(SysctlPath, value.ToString(CultureInfo.InvariantCulture));
        return new SysctlScope(previous);
    }

    public static int ReadSysctl() =>
        int.Parse(File.ReadAllText(SysctlPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    private static int ReadSysctlOrSkip()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(SysctlPath))
        {
            SkipOrFail($"TCP Fast Open tests need Linux with {SysctlPath}.");
        }

        return ReadSysctl();
    }

    /// <summary>Skips (or fails under CI) unless this process is in the private network namespace eng/test.sh made.</summary>
    public static void RequirePrivateNetworkNamespace()
    {
        // eng/test.sh names the namespace it made; trust it only if this process is in that very namespace.
        var made = Environment.GetEnvironmentVariable("KESTRELTFO_TEST_NETNS");
        var current = new FileInfo("/proc/self/ns/net").LinkTarget;
        if (string.IsNullOrEmpty(made) || made != current)
        {
            SkipOrFail(
                "this test changes its network namespace (a sysctl, or devices and addresses), so it runs only in the private " +
                "network namespace eng/test.sh makes as root " +
                $"(KESTRELTFO_TEST_NETNS='{made}', this process: '{current}').");
        }
    }

    /// <summary>Skips (or fails under CI) unless <paramref name="condition"/> holds: the CI-aware <c>Assert.SkipUnless</c>.</summary>
    public static void SkipUnless([DoesNotReturnIf(false)] bool condition, string reason)
    {
        if (!condition)
        {
            SkipOrFail(reason);
        }
    }

    [DoesNotReturn]
    public static void SkipOrFail(string reason)
    {
        if (IsCi)
        {
            Assert.Fail($"CI=true, so a test may not skip: {reason}");
        }

        Assert.Skip(reason);
        throw new UnreachableException();
    }

    public sealed class SysctlScope(int previous) : IDisposable
    {
        public void Dispose() => File.WriteAllText(SysctlPath, previous.ToString(CultureInfo.InvariantCulture));
    }
}
