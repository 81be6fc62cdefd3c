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
    public async Task Settings_that_look_right_but_get_no_data_through_exit_3_with_the_step_that_failed()
    {
        // Bit 0x4 on top of 3: the client and server bits are both on, yet the client sends its data without asking
        // for a cookie, which the server refuses without bit 0x200, so no SYN's data is ever taken.
        using var sysctl = FastOpenEnvironment.SetSysctl(7);

        var run = await DoctorRun.StartAsync("--json");

        Assert.Equal(3, run.ExitCode);
        Assert.True(run.Check("net.ipv4.tcp_fastopen").GetProperty("ok").GetBoolean());
        Assert.Equal(["cookie", "syn-data-server", "syn-data-client", "counters"], run.Failed);
        Assert.Equal("not requested", run.Check("cookie").GetProperty("value").GetString());
        Assert.StartsWith("net.ipv4.tcp_fastopen is 7, with bit 0x4", run.Json.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }
}
