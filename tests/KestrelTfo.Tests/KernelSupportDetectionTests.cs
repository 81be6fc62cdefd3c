using KestrelTfo.Internal;
using KestrelTfo.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KestrelTfo.Tests;

public sealed class KernelSupportDetectionTests
{
    [Theory]
    [InlineData("3\n", 3)]
    [InlineData("1", 1)]
    [InlineData(" 1027 \n", 1027)]
    public void Sysctl_value_parses(string text, int expected)
    {
        Assert.True(LinuxFastOpenSysctl.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("0x3")]
    [InlineData("three")]
    public void Sysctl_garbage_does_not_parse(string text) => Assert.False(LinuxFastOpenSysctl.TryParse(text, out _));

    [Fact]
    public void Unreadable_sysctl_says_why()
    {
        Assert.False(LinuxFastOpenSysctl.TryRead("/nonexistent/tcp_fastopen", out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Server_bit_off_gives_every_fix_with_the_value_to_set()
    {
        var support = KernelSupport.LinuxServerBitOff(1);

        Assert.False(support.ServerEnabled);
        Assert.Equal(1, support.LinuxValue);
        Assert.Equal("net.ipv4.tcp_fastopen is 1, which lacks the server bit 0x2", support.Problem);
        Assert.Contains("`sysctl -w net.ipv4.tcp_fastopen=3`", support.Fix, StringComparison.Ordinal);
        Assert.Contains("`net.ipv4.tcp_fastopen = 3` to /etc/sysctl.d/", support.Fix, StringComparison.Ordinal);
        Assert.Contains("`docker run --sysctl net.ipv4.tcp_fastopen=3 ...`", support.Fix, StringComparison.Ordinal);
        Assert.Contains("securityContext.sysctls: [{name: net.ipv4.tcp_fastopen, value: \"3\"}]", support.Fix, StringComparison.Ordinal);
        Assert.Contains("--allowed-unsafe-sysctls=net.ipv4.tcp_fastopen", support.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "2")]
    [InlineData(1, "3")]
    [InlineData(0x401, "1027")]
    [InlineData(5, "3")]
    [InlineData(0x205, "3")]
    public void Fix_adds_the_server_bit_and_drops_the_bits_that_send_or_take_data_without_a_cookie(int value, string wanted) =>
        Assert.Contains($"sysctl -w net.ipv4.tcp_fastopen={wanted}`", KernelSupport.LinuxServerBitOff(value).Fix, StringComparison.Ordinal);

    [Fact]
    public void Detect_on_Linux_agrees_with_the_sysctl()
    {
        FastOpenEnvironment.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        Assert.True(LinuxFastOpenSysctl.TryRead(out var value, out _));

        var support = KernelSupport.Detect();

        Assert.Equal((value & 0x2) != 0, support.ServerEnabled);
        Assert.Equal(value, support.LinuxValue);
    }

    [Fact]
    public void TryEnableKernelSupport_that_cannot_write_the_sysctl_says_why_and_serves_on()
    {
        // A sysctl that reads as a number without the server bit and that nobody, root included, may write.
        const string ReadOnly = "/proc/sys/kernel/ngroups_max";
        var readable = LinuxFastOpenSysctl.TryRead(ReadOnly, out var value, out _);
        FastOpenEnvironment.SkipUnless(OperatingSystem.IsLinux() && readable && (value & 0x2) == 0, $"needs {ReadOnly}");
        var logger = new FakeLogger();

        var support = KernelSupportCheck.Run(new FastOpenTransportOptions { TryEnableKernelSupport = true }, logger, ReadOnly);

        Assert.False(support.ServerEnabled);
        var logs = logger.Collector.GetSnapshot();
        var failed = Assert.Single(logs, e => e.Id.Name == nameof(FastOpenLog.KernelSupportEnableFailed));
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains($"could not set net.ipv4.tcp_fastopen to {value | 0x2}", failed.Message, StringComparison.Ordinal);
        Assert.Contains(logs, e => e.Id.Name == nameof(FastOpenLog.KernelSupportMissing));
    }
}
