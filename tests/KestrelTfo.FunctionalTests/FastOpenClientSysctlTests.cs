using System.Net.Http.Json;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests;

/// <summary>The TFO HttpClient handler when the kernel's TFO bits are off, on the server side or on the client side.</summary>
[Collection(nameof(SysctlTests))]
public sealed class FastOpenClientSysctlTests
{
    private const int FastOpenUnavailable = 100;

    [Fact(Timeout = Limits.Test)]
    public async Task Requests_work_when_the_server_bit_is_turned_off_after_the_cookie()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        await FastOpenHttp.ReportAsync(server, log);
        Assert.True((await FastOpenHttp.ReportAsync(server, log)).Report.IsFastOpen);

        FastOpenReport report;
        using (FastOpenEnvironment.SetSysctl(1))
        {
            report = (await FastOpenHttp.ReportAsync(server, log)).Report;
        }

        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), report);
        Assert.Equal(["CookieRequested", "DataAccepted", "DataNotAccepted"], log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_the_client_bit_connections_open_normally_and_one_warning_says_how_to_fix_it()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        var handler = FastOpenHttp.Handler(log);
        handler.PooledConnectionLifetime = TimeSpan.Zero;
        using var client = new HttpClient(handler);

        var reports = new List<FastOpenReport>();
        using (FastOpenEnvironment.SetSysctl(2))
        {
            for (var i = 0; i < 3; i++)
            {
                reports.Add((await client.GetFromJsonAsync<FastOpenReport>(new Uri(server, "/tfo"), TestContext.Current.CancellationToken))!);
            }
        }

        Assert.All(reports, report => Assert.False(report.IsFastOpen));
        Assert.Equal(["Normal", "Normal", "Normal"], log.Connections);
        var warning = Assert.Single(log.WithId(FastOpenUnavailable));
        Assert.Contains("sysctl -w net.ipv4.tcp_fastopen=3", warning.Message, StringComparison.Ordinal);
    }
}
