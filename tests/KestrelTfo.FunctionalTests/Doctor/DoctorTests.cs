using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using KestrelTfo.Doctor;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Doctor;

public sealed class DoctorTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Check_reports_that_a_running_server_took_the_second_request_in_the_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();

        var run = await DoctorRun.StartAsync("--json", "--check", app.EndPoint.ToString());

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.Failed);
        Assert.Equal(
            ["platform", "net.ipv4.tcp_fastopen", "net.ipv4.tcp_fastopen_blackhole_timeout_sec", "server-cookie", "server-syn-data"],
            run.Json.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("`HTTP/1.1 404 Not Found`", run.Check("server-cookie").GetProperty("value").GetString());
        Assert.Equal("accepted", run.Check("server-syn-data").GetProperty("value").GetString());
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_a_name_with_several_addresses_uses_the_first_that_answers()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        // Nothing listens on this address, the way a name's IPv6 address often has no listener behind it.
        var silent = Loopback.NextAddress();
        var report = new DoctorReport("check");

        await ServerCheck.RunAsync(report, new CheckTarget("app.test", app.EndPoint.Port), [silent, app.EndPoint.Address], connections: 1, TimeSpan.FromSeconds(5), Timeout);

        Assert.True(report.Ok, string.Join("; ", report.Checks.Select(c => $"{c.Name}: {c.Value} ({c.Detail})")));
        Assert.Equal(["server-cookie", "server-syn-data"], report.Checks.Select(c => c.Name));
        Assert.EndsWith($" ({app.EndPoint} answered; not {new IPEndPoint(silent, app.EndPoint.Port)}: Connection refused)", report.Checks[0].Detail, StringComparison.Ordinal);
        Assert.Equal("accepted", report.Checks[1].Value);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_a_name_none_of_whose_addresses_answers_names_each_and_exits_4()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // Sockets bound to the port on both addresses, not listening, for the whole test: connections to them are refused,
        // and no other test's listener can take that port on either address meanwhile.
        var silent = new[] { Loopback.NextAddress(), Loopback.NextAddress() };
        using var first = BoundOnly(new IPEndPoint(silent[0], 0));
        var port = ((IPEndPoint)first.LocalEndPoint!).Port;
        using var second = BoundOnly(new IPEndPoint(silent[1], port));
        var report = new DoctorReport("check");

        await ServerCheck.RunAsync(report, new CheckTarget("app.test", port), silent, connections: 1, TimeSpan.FromSeconds(2), Timeout);

        Assert.Equal(DoctorExitCode.ServerCheckFailed, report.ExitCode);
        var check = Assert.Single(report.Checks);
        Assert.Equal("no answer", check.Value);
        Assert.Equal($"{silent[0]}:{port}: Connection refused; {silent[1]}:{port}: Connection refused", check.Detail);
        Assert.Contains($"one of {silent[0]}, {silent[1]} is an address it listens on", report.Fix!.Text, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_a_server_without_TFO_exits_4_and_says_the_SYN_data_was_not_taken()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        listener.Listen();
        var server = AnswerTwiceAsync(listener);

        var run = await DoctorRun.StartAsync("--json", "--check", listener.LocalEndPoint!.ToString()!);
        await server;

        Assert.Equal(4, run.ExitCode);
        Assert.Equal(["server-syn-data"], run.Failed);
        Assert.Equal("not accepted", run.Check("server-syn-data").GetProperty("value").GetString());
        Assert.Contains("ignored the data in the SYN", run.Check("server-syn-data").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("UseFastOpenTransport()", run.Json.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_a_port_nobody_listens_on_exits_4()
    {
        // Bound, not listening, for the whole test: refused, and no other listener can take the port meanwhile.
        using var bound = BoundOnly(new IPEndPoint(Loopback.NextAddress(), 0));
        var closed = (IPEndPoint)bound.LocalEndPoint!;

        var run = await DoctorRun.StartAsync("--check", closed.ToString(), "--timeout", "2");

        Assert.Equal(4, run.ExitCode);
        Assert.Matches("(?m)^✗ server-cookie +no answer — .*refused", run.Output);
        Assert.Contains("Fix: start the server", run.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_an_https_endpoint_sends_a_real_ClientHello_in_the_SYN_and_says_so()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" },
            listen: FastOpenHttp.Listen(Loopback.NextAddress(), https: true));

        var run = await DoctorRun.StartAsync("--json", "--check", $"https://{app.EndPoint}");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("TLS handshake completed", run.Check("server-cookie").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Contains("acknowledged the ClientHello in the SYN", run.Check("server-syn-data").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("tls_client_hello", run.Json.GetProperty("fleet").GetProperty("kind").GetString());
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Check_of_a_plaintext_endpoint_that_defers_exits_4_and_points_at_the_TLS_check()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" });

        var run = await DoctorRun.StartAsync("--json", "--check", $"http://{app.EndPoint}");

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("--check https://HOST:PORT", run.Json.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Connections_counts_how_many_SYNs_the_server_took_and_says_what_the_share_means()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();

        var run = await DoctorRun.StartAsync("--json", "--check", app.EndPoint.ToString(), "--connections", "5");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("5 of 5 accepted", run.Check("server-syn-data").GetProperty("value").GetString());
        var fleet = run.Json.GetProperty("fleet");
        Assert.Equal((5, 5, "all", "http"), (fleet.GetProperty("connections").GetInt32(), fleet.GetProperty("accepted").GetInt32(), fleet.GetProperty("share").GetString(), fleet.GetProperty("kind").GetString()));
        Assert.Contains("every instance behind this address accepts this client's cookie", run.Check("server-syn-data").GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("--bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("--check", "Required argument missing for option: '--check'")]
    [InlineData("--check=example", "--check wants HOST:PORT")]
    [InlineData("--check=::1:80", "--check wants HOST:PORT")]
    [InlineData("--check=127.0.0.1:0", "--check wants HOST:PORT")]
    [InlineData("--check=ftp://example:21", "--check wants HOST:PORT")]
    [InlineData("--timeout=soon", "--timeout wants a number of seconds from 0.1 to 300, not 'soon'")]
    [InlineData("--timeout=0", "--timeout wants a number of seconds from 0.1 to 300")]
    [InlineData("--connections=0", "--connections wants a number from 1 to 10000")]
    [InlineData("--connections=3", "--connections needs --check")]
    public async Task Bad_arguments_exit_2_with_the_reason_and_no_report(string argument, string reason)
    {
        var run = await DoctorRun.StartAsync(argument);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("kestreltfo-doctor: ", run.Error, StringComparison.Ordinal);
        Assert.Contains(reason, run.Error, StringComparison.Ordinal);
        Assert.Contains("--help", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Output);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Help_is_generated_with_every_option_and_the_exit_codes()
    {
        var run = await DoctorRun.StartAsync("--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var option in new[] { "--json", "--check <target>", "--connections <n>", "--timeout <seconds>", "--version", "-?, -h, --help" })
        {
            Assert.Contains(option, run.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Exit codes: 0 TCP Fast Open works end to end", run.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Version_prints_the_tools_version()
    {
        var run = await DoctorRun.StartAsync("--version");

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", run.Output);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_built_tool_exits_0_as_a_process_when_TFO_works()
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        var (exitCode, output) = await RunToolAsync("--json");

        Assert.Equal(0, exitCode);
        Assert.Contains("\"ok\": true", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_built_tool_exits_2_as_a_process_on_bad_arguments()
    {
        var (exitCode, _) = await RunToolAsync("--bogus");

        Assert.Equal(2, exitCode);
    }

    private static Socket BoundOnly(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(endPoint);
        return socket;
    }

    /// <summary>Accepts two connections and answers each with an HTTP status line, as a server without TFO would.</summary>
    private static async Task AnswerTwiceAsync(Socket listener)
    {
        for (var i = 0; i < 2; i++)
        {
            using var connection = await listener.AcceptAsync(Timeout);
            await connection.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\n\r\n"), SocketFlags.None, Timeout);
            connection.Shutdown(SocketShutdown.Both);
        }
    }

    // The test project references the doctor, so its assembly sits next to the tests'; run it with this runtime's host.
    private static Task<(int ExitCode, string Output)> RunToolAsync(params string[] args) =>
        ChildProcess.RunAsync(ChildProcess.DotNet, [Path.Combine(AppContext.BaseDirectory, "KestrelTfo.Doctor.dll"), .. args], TimeSpan.FromSeconds(60), Timeout);
}
