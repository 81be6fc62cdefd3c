using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests;

/// <summary>The kernel's server bit off, then on again: these tests change the namespace's sysctl.</summary>
[Collection(nameof(SysctlTests))]
public sealed class KernelSupportTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Server_bit_off_serves_without_TFO_and_logs_the_fix_once()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(1);
        var second = Loopback.NextAddress();
        await using var app = new KestrelAppFactory<Program>(listen: null, configure: null);
        await using var twoListeners = new KestrelAppFactory<Program>(listen: o =>
        {
            o.Listen(Loopback.NextAddress(), 0);
            o.Listen(second, 0);
        });

        foreach (var _ in Enumerable.Range(0, 2))
        {
            var response = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);
            Assert.Equal(200, response.StatusCode);
            Assert.Contains("\"isFastOpen\":false", response.Body, StringComparison.Ordinal);
        }

        var warning = Assert.Single(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.KernelSupportMissing)));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("net.ipv4.tcp_fastopen is 1", warning.Message, StringComparison.Ordinal);
        Assert.Contains("sysctl -w net.ipv4.tcp_fastopen=3", warning.Message, StringComparison.Ordinal);
        Assert.Contains("/etc/sysctl.d/", warning.Message, StringComparison.Ordinal);
        Assert.Contains("docker run --sysctl net.ipv4.tcp_fastopen=3", warning.Message, StringComparison.Ordinal);
        Assert.Contains("securityContext.sysctls", warning.Message, StringComparison.Ordinal);

        // Two listeners, still one warning.
        twoListeners.StartServer();
        Assert.Single(twoListeners.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.KernelSupportMissing)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task RequireFastOpen_with_the_server_bit_off_fails_start_up_with_the_fix()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(1);
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:RequireFastOpen"] = "true" });

        var error = Assert.Throws<InvalidOperationException>(app.StartServer);

        Assert.Contains("RequireFastOpen", error.Message, StringComparison.Ordinal);
        Assert.Contains("sysctl -w net.ipv4.tcp_fastopen=3", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.KernelSupportMissing)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task TryEnableKernelSupport_sets_the_server_bit_and_says_so()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(1);
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:TryEnableKernelSupport"] = "true" });

        await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);
        var second = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);

        Assert.Equal(3, FastOpenEnvironment.ReadSysctl());
        Assert.Contains("\"isFastOpen\":true", second.Body, StringComparison.Ordinal);
        var info = Assert.Single(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.KernelSupportEnabled)));
        Assert.Contains("from 1 to 3", info.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.KernelSupportMissing)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_listener_started_while_the_bit_was_off_uses_TFO_once_it_is_set()
    {
        using var off = FastOpenEnvironment.SetSysctl(1);
        await using var app = new KestrelAppFactory<Program>();
        app.StartServer();
        Assert.Contains(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.KernelSupportMissing)));

        // Set here, not left to a scope's restore: the listener's TCP_FASTOPEN, set at start, takes effect with the bit.
        using var on = FastOpenEnvironment.SetSysctl(3);
        var cookie = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);
        var second = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);

        Assert.False(cookie.Report().IsFastOpen);
        Assert.True(second.Report().IsFastOpen);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_kernel_that_takes_SYN_data_without_a_cookie_is_warned_about_and_degrades_the_health_check()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(0x203);
        await using var app = new KestrelAppFactory<Program>();
        app.StartServer();

        var health = (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Timeout)).Entries["tcp_fast_open"];

        var warning = Assert.Single(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.KernelAcceptsDataWithoutCookie));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("net.ipv4.tcp_fastopen = 515 has bit 0x200", warning.Message, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("data in SYNs without a cookie is accepted", health.Description, StringComparison.Ordinal);
    }
}
