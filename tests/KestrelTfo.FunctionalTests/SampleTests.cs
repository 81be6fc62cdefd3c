extern alias Sample;

using KestrelTfo.FunctionalTests.Infrastructure;
using SampleProgram = Sample::Program;

namespace KestrelTfo.FunctionalTests;

public sealed class SampleTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sample_says_a_plain_connection_did_not_use_TFO()
    {
        await using var app = new KestrelAppFactory<SampleProgram>();
        using var client = app.CreateClient();

        Assert.Equal("this connection did not use TFO\n", await client.GetStringAsync("/", Timeout));
    }

    [Fact]
    public async Task Sample_says_a_returning_TFO_client_used_TFO()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<SampleProgram>();

        var first = await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);
        var second = await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);

        Assert.Equal("this connection did not use TFO\n", first.Body);
        Assert.Equal($"this connection used TFO ({RawHttp.Request("/").Length} bytes of early data)\n", second.Body);
    }

    [Fact]
    public async Task Sample_reports_healthy_when_TFO_is_on()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<SampleProgram>();
        using var client = app.CreateClient();

        Assert.Equal("Healthy", await client.GetStringAsync("/healthz", Timeout));
    }

    [Fact]
    public async Task Sample_exports_the_TFO_metrics_over_OTLP_when_given_a_collector()
    {
        await using var collector = new OtlpReceiver(wanted: "kestreltfo.connections");
        var endpoint = await collector.StartAsync(Timeout);
        await using var app = new KestrelAppFactory<SampleProgram>(settings: new()
        {
            ["Otlp:Endpoint"] = endpoint.ToString(),
            ["Otlp:ExportIntervalMilliseconds"] = "200",
        });
        using var client = app.CreateClient();

        await client.GetStringAsync("/", Timeout);

        var export = await collector.Received.WaitAsync(TimeSpan.FromSeconds(30), Timeout);
        Assert.Contains(FastOpenMetrics.MeterName, System.Text.Encoding.UTF8.GetString(export), StringComparison.Ordinal);
    }
}
