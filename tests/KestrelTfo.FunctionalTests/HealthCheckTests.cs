using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KestrelTfo.FunctionalTests;

[Collection(nameof(SysctlTests))]
public sealed class HealthCheckTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Healthy_when_every_listener_accepts_TFO()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var cookiesRequested = CookiesRequested();
        await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);

        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Timeout);

        var entry = report.Entries["tcp_fast_open"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal($"TCP Fast Open is on for 1 listener(s) (net.ipv4.tcp_fastopen = {FastOpenEnvironment.ReadSysctl()}).", entry.Description);
        Assert.Equal("on", entry.Data[$"listener {app.EndPoint}"]);
        Assert.Equal(cookiesRequested + 1, (long)entry.Data["TCPFastOpenCookieReqd"]);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Degraded_with_the_setting_and_the_fix_when_the_server_bit_is_off_and_healthy_once_fixed()
    {
        await using var app = new KestrelAppFactory<Program>();
        HealthReportEntry off;
        using (FastOpenEnvironment.SetSysctl(1))
        {
            app.StartServer();
            off = (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Timeout)).Entries["tcp_fast_open"];
        }

        Assert.Equal(HealthStatus.Degraded, off.Status);
        Assert.Contains("net.ipv4.tcp_fastopen is 1", off.Description, StringComparison.Ordinal);
        Assert.Contains("sysctl -w net.ipv4.tcp_fastopen=3", off.Description, StringComparison.Ordinal);
        Assert.Equal("net.ipv4.tcp_fastopen = 1", off.Data["kernel.setting"]);
        Assert.Equal("off (kernel)", off.Data[$"listener {app.EndPoint}"]);

        // The sysctl is back: the same listener is healthy without a restart.
        var fixedNow = (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Timeout)).Entries["tcp_fast_open"];
        Assert.Equal(HealthStatus.Healthy, fixedNow.Status);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_health_endpoint_answers_over_HTTP()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        using var client = app.CreateClient();

        Assert.Equal("Healthy", await client.GetStringAsync("/health", Timeout));
    }

    // Tests in this collection run alone, so the namespace's counter moves only with this test's connections.
    private static long CookiesRequested() => KernelCounters.Read()[TcpFastOpenCounter.CookieReqd];
}
