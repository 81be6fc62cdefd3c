using System.Text.Json;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Doctor;

/// <summary>
/// The doctor's loopback self-test, whose cookie and counter checks read the namespace's kernel counters: run alone,
/// so that the counters move with the doctor's two connections only and the values it reports are exact.
/// </summary>
[Collection(nameof(KernelCounterTests))]
public sealed class DoctorSelfTestTests
{
    private static readonly string[] s_selfTestChecks =
    [
        "platform", "net.ipv4.tcp_fastopen", "net.ipv4.tcp_fastopen_blackhole_timeout_sec",
        "listener", "cookie", "syn-data-server", "syn-data-client", "counters",
    ];

    [Fact(Timeout = Limits.Test)]
    public async Task Exits_0_when_TFO_works_and_says_so_check_by_check()
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        var run = await DoctorRun.StartAsync();

        Assert.Equal(0, run.ExitCode);
        foreach (var name in s_selfTestChecks)
        {
            Assert.Matches($"(?m)^✓ {name.Replace(".", "\\.", StringComparison.Ordinal)} ", run.Output);
        }

        Assert.DoesNotContain("✗", run.Output, StringComparison.Ordinal);
        Assert.Contains("TCP Fast Open works end to end", run.Output, StringComparison.Ordinal);
        Assert.Empty(run.Error);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Json_lists_every_check_as_passed_with_a_fresh_cookie_and_data_in_the_SYN_each_counted_once()
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        var run = await DoctorRun.StartAsync("--json");

        Assert.Equal(0, run.ExitCode);
        Assert.True(run.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(0, run.Json.GetProperty("exitCode").GetInt32());
        Assert.Equal(JsonValueKind.Null, run.Json.GetProperty("fix").ValueKind);
        Assert.Equal(s_selfTestChecks, run.Json.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Empty(run.Failed);
        Assert.Equal("3", run.Check("net.ipv4.tcp_fastopen").GetProperty("value").GetString());

        // A fresh address from the tests' allocator, and nothing else connecting meanwhile: the first connection's cookie
        // request is the one the counter shows, and the second connection is the one TFO connection each end counted.
        Assert.Equal("requested", run.Check("cookie").GetProperty("value").GetString());
        Assert.Contains("(TCPFastOpenCookieReqd +1)", run.Check("cookie").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("accepted", run.Check("syn-data-server").GetProperty("value").GetString());
        Assert.Equal("acknowledged", run.Check("syn-data-client").GetProperty("value").GetString());
        Assert.Equal("TCPFastOpenPassive +1, TCPFastOpenActive +1", run.Check("counters").GetProperty("value").GetString());
    }
}
