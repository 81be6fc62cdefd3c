using KestrelTfo.Doctor;

namespace KestrelTfo.FunctionalTests.Doctor;

/// <summary>The doctor where the kernel does not say whether a SYN carried data: everything but Linux.</summary>
public sealed class DoctorPlatformTests
{
    [Theory(Timeout = Limits.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Elsewhere_than_Linux_it_exits_5_after_the_platform_check_and_tries_nothing(bool check)
    {
        var options = new DoctorOptions(Json: false, check ? new CheckTarget("127.0.0.1", 1) : null, DoctorOptions.DefaultTimeout);

        var report = await FastOpenDoctor.DiagnoseAsync(options, isLinux: false, TestContext.Current.CancellationToken);

        Assert.Equal(DoctorExitCode.UnsupportedPlatform, report.ExitCode);
        var platform = Assert.Single(report.Checks);
        Assert.Equal(("platform", false), (platform.Name, platform.Ok));
        Assert.Contains("Linux only", platform.Detail, StringComparison.Ordinal);
        Assert.EndsWith("(exit code 5).", report.Summary, StringComparison.Ordinal);
    }
}
