using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Doctor;

[Collection(nameof(SysctlTests))]
public sealed class DoctorSysctlTests
{
    [Fact(Timeout = Limits.Test)]
    public async Task Server_bit_off_exits_1_and_the_JSON_names_the_setting_and_the_fix()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(1);

        var run = await DoctorRun.StartAsync("--json");

        Assert.Equal(1, run.ExitCode);
        Assert.False(run.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(1, run.Json.GetProperty("exitCode").GetInt32());

        // The setting is the first failure; the self-test's failures that follow from it are listed after it.
        Assert.Equal("net.ipv4.tcp_fastopen", run.Failed[0]);
        Assert.Equal("1", run.Check("net.ipv4.tcp_fastopen").GetProperty("value").GetString());
        Assert.Contains("server bit 0x2 off", run.Check("net.ipv4.tcp_fastopen").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(run.Check("syn-data-server").GetProperty("ok").GetBoolean());
        var fix = run.Json.GetProperty("fix").GetString();
        Assert.Contains("`sysctl -w net.ipv4.tcp_fastopen=3`", fix, StringComparison.Ordinal);
        Assert.Contains("`docker run --sysctl net.ipv4.tcp_fastopen=3 ...`", fix, StringComparison.Ordinal);
        Assert.Contains("securityContext.sysctls: [{name: net.ipv4.tcp_fastopen, value: \"3\"}]", fix, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Server_bit_off_prints_the_fix_for_each_place_the_app_runs()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(1);

        var run = await DoctorRun.StartAsync();

        Assert.Equal(1, run.ExitCode);
        Assert.Matches("(?m)^✗ net\\.ipv4\\.tcp_fastopen +1 — client bit 0x1 on, server bit 0x2 off", run.Output);
        Assert.Matches("(?m)^  host, now: +sysctl -w net\\.ipv4\\.tcp_fastopen=3$", run.Output);
        Assert.Matches("(?m)^  Docker: +docker run --sysctl net\\.ipv4\\.tcp_fastopen=3 \\.\\.\\.$", run.Output);
        Assert.Matches("(?m)^  Kubernetes: +pod spec securityContext\\.sysctls:", run.Output);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Client_bit_off_exits_1_since_the_self_test_cannot_send_data_in_a_SYN()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(2);

        var run = await DoctorRun.StartAsync("--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("net.ipv4.tcp_fastopen", run.Failed[0]);
        Assert.Contains("client bit 0x1 off", run.Check("net.ipv4.tcp_fastopen").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("`sysctl -w net.ipv4.tcp_fastopen=3`", run.Json.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_needs_only_the_client_bit()
    {
        // Server bit off here: the checked server is this very namespace's, so its SYN data is refused, but
        // the setting itself passes, since a client needs only the client bit.
        using var sysctl = FastOpenEnvironment.SetSysctl(1);
        await using var app = new KestrelAppFactory<Program>();

        var run = await DoctorRun.StartAsync("--json", "--check", app.EndPoint.ToString());

        Assert.Equal(4, run.ExitCode);
        Assert.True(run.Check("net.ipv4.tcp_fastopen").GetProperty("ok").GetBoolean());
        Assert.Equal(["server-syn-data"], run.Failed);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Settings_that_look_right_but_get_no_data_through_exit_3_and_point_at_a_firewall()
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(3);
        using var firewall = SynDataFirewall.Start();

        var run = await DoctorRun.StartAsync("--json");

        Assert.Equal(3, run.ExitCode);
        Assert.True(run.Check("net.ipv4.tcp_fastopen").GetProperty("ok").GetBoolean());
        Assert.Equal(["syn-data-server", "syn-data-client", "counters"], run.Failed);
        Assert.Contains("look for a firewall rule", run.Json.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(0x207, "bit 0x200 makes the kernel take data in SYNs that carry no cookie")]
    [InlineData(0x7, "bit 0x4 makes this machine send data in SYNs without asking for a cookie")]
    public async Task Bits_that_send_or_take_data_without_a_cookie_fail_the_setting_and_the_fix_clears_them(int value, string problem)
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(value);

        var run = await DoctorRun.StartAsync("--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("net.ipv4.tcp_fastopen", run.Failed[0]);
        Assert.Contains(problem, run.Check("net.ipv4.tcp_fastopen").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("set net.ipv4.tcp_fastopen to 3:", run.Json.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }
}
