using System.Runtime.Versioning;
using KestrelTfo.Doctor;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.FunctionalTests.Tls;
using Microsoft.AspNetCore.Hosting;

namespace KestrelTfo.FunctionalTests.Doctor;

/// <summary>
/// The doctor's early-data check of an https target: against KestrelTfo's TLS layer, and against <c>openssl s_server</c>
/// with and without its own replay defence, so that each of its answers is seen from a server that gives it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DoctorEarlyDataTests
{
    private static readonly TimeSpan s_stepLimit = TimeSpan.FromSeconds(5);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_KestrelTfo_with_early_data_says_it_accepts_early_data_and_refuses_a_replayed_first_flight()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(listen: options => options.Listen(Loopback.NextAddress(), 0, listen =>
            listen.UseOpenSslHttps(new() { ServerCertificate = TestCertificate.Instance }, earlyData: true)));

        var run = await DoctorRun.StartAsync("--json", "--check", $"https://{app.EndPoint}");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("accepted", run.Check("early-data").GetProperty("value").GetString());
        Assert.Equal("refused", run.Check("early-data-replay").GetProperty("value").GetString());
        Assert.Contains("declined its early data", run.Check("early-data-replay").GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_a_server_whose_tickets_allow_no_early_data_says_so_and_passes()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(listen: options => options.Listen(Loopback.NextAddress(), 0, listen =>
            listen.UseOpenSslHttps(new() { ServerCertificate = TestCertificate.Instance }, earlyData: false)));

        var run = await DoctorRun.StartAsync("--json", "--check", $"https://{app.EndPoint}");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("not offered", run.Check("early-data").GetProperty("value").GetString());
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_server_that_takes_a_replayed_first_flight_again_fails_the_check_with_exit_code_7()
    {
        // s_server with its replay defence off: as nginx with ssl_early_data on, it takes every copy.
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout, "-no_anti_replay");
        var report = new DoctorReport("check");

        await EarlyDataCheck.RunAsync(report, new CheckTarget("localhost", server.EndPoint.Port, Tls: true), server.EndPoint, s_stepLimit, Timeout);

        Assert.Equal(["early-data", "early-data-replay"], report.Checks.Select(c => c.Name));
        Assert.Equal(("accepted", false), (report.Checks[1].Value, report.Checks[1].Ok));
        Assert.Equal(DoctorExitCode.EarlyDataReplayed, report.ExitCode);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_server_with_single_use_tickets_refuses_a_replayed_first_flight_by_not_resuming_it()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout);
        var report = new DoctorReport("check");

        await EarlyDataCheck.RunAsync(report, new CheckTarget("localhost", server.EndPoint.Port, Tls: true), server.EndPoint, s_stepLimit, Timeout);

        Assert.True(report.Ok, string.Join("; ", report.Checks.Select(c => $"{c.Name}: {c.Value} ({c.Detail})")));
        Assert.Equal("refused", report.Checks[1].Value);
        Assert.Contains("did not resume", report.Checks[1].Detail, StringComparison.Ordinal);
    }
}
