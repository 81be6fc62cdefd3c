using System.Diagnostics.Metrics;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// No policy leaves a standard TCP Fast Open client failing a request it would succeed with on Kestrel's default
/// transport: curl, whose kernel sends its request in the SYN once it holds a cookie, and the project's own client.
/// </summary>
public sealed class EveryPolicyClientTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag", "flagged")]
    [InlineData("Defer", "kernel_deferred")]
    [InlineData("Reject", "kernel_deferred")]
    public async Task Curl_with_tcp_fastopen_succeeds_on_every_request(string policy, string action)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        for (var i = 0; i < 3; i++)
        {
            var (exitCode, output) = await CurlAsync("--tcp-fastopen", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", "amount=1000", $"http://{app.EndPoint}/transfer");
            Assert.True(exitCode == 0, $"curl exited {exitCode}: {output}");
            Assert.Equal("200", output);
        }

        // The first request fetched the cookie; the others carried their POST in the SYN, and the guard saw each.
        Assert.Equal(3, app.Services.GetRequiredService<RequestLedger>().Transfers.Count);
        Assert.Equal(2, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", action)));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    [InlineData("Reject")]
    public async Task The_projects_client_succeeds_on_every_request(string policy)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy });
        using var log = new ClientLog();
        var baseAddress = new Uri($"http://{app.EndPoint}");

        for (var i = 0; i < 3; i++)
        {
            Assert.True((await FastOpenHttp.ReportAsync(baseAddress, log)).Report.HasFeature);
            Assert.True((await FastOpenHttp.ReportAsync(baseAddress, log, HttpMethod.Post)).Report.HasFeature);
        }

        Assert.Equal(3, app.Services.GetRequiredService<RequestLedger>().Transfers.Count);
    }

    private static async Task<(int ExitCode, string Output)> CurlAsync(params string[] arguments)
    {
        try
        {
            return await ChildProcess.RunAsync("curl", arguments, TimeSpan.FromSeconds(30), Timeout);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            FastOpenEnvironment.SkipOrFail($"curl cannot be started ({e.Message}); eng/test.sh installs it");
            throw;
        }
    }
}
