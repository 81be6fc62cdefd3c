using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// A key written in the kernel's form means to KestrelTfo what it means to the kernel: proven against the kernel itself,
/// with a listener keyed through <c>net.ipv4.tcp_fastopen_key</c> beside a KestrelTfo listener on the same address (the
/// client keeps one cookie per server address, so a cookie one issued is tried on the other).
/// </summary>
[Collection(nameof(SysctlTests))]
public sealed class KernelKeyTests
{
    private const string KeySysctl = "/proc/sys/net/ipv4/tcp_fastopen_key";

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_key_in_the_kernels_form_makes_the_cookies_the_sysctl_with_that_text_makes(bool sysctlFirst)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        FastOpenEnvironment.RequirePrivateNetworkNamespace();
        var address = Loopback.NextAddress();
        var previous = File.ReadAllText(KeySysctl).Trim();
        File.WriteAllText(KeySysctl, TestKeys.KernelText);
        try
        {
            // A listener without keys of its own uses the namespace's, which the sysctl just set.
            using var sysctlKeyed = RawFastOpen.Listen(address);
            await using var app = new KestrelAppFactory<Program>(
                settings: new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.KernelText },
                listen: o => o.Listen(address, 0));

            // The first connection fetches the cookie from one listener, the second offers it to the other.
            if (sysctlFirst)
            {
                Assert.False(await ExchangeAsync(sysctlKeyed));
                Assert.True((await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout)).Report().IsFastOpen);
            }
            else
            {
                Assert.False((await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout)).Report().IsFastOpen);
                Assert.True(await ExchangeAsync(sysctlKeyed));
            }
        }
        finally
        {
            File.WriteAllText(KeySysctl, previous);
        }
    }

    /// <summary>One TFO connection to a plain listener; whether the listener took the data in its SYN.</summary>
    private static Task<bool> ExchangeAsync(Socket listener) => RawFastOpen.EchoAsync(listener, "hello"u8.ToArray(), Timeout);
}
