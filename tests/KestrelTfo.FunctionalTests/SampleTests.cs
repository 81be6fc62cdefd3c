extern alias Sample;

using KestrelTfo.FunctionalTests.Infrastructure;
using SampleProgram = Sample::Program;

namespace KestrelTfo.FunctionalTests;

public sealed class SampleTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Sample_says_a_plain_connection_did_not_use_TFO()
    {
        await using var app = new KestrelAppFactory<SampleProgram>();
        using var client = app.CreateClient();

        Assert.Equal("this connection did not use TFO\n", await client.GetStringAsync("/", Timeout));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Sample_says_a_returning_TFO_client_used_TFO()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<SampleProgram>();

        var first = await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);
        var second = await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);

        Assert.Equal("this connection did not use TFO\n", first.Body);
        Assert.Equal($"this connection used TFO ({RawHttp.Request("/").Length} bytes of early data)\n", second.Body);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Sample_reports_healthy_when_TFO_is_on()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<SampleProgram>();
        using var client = app.CreateClient();

        Assert.Equal("Healthy", await client.GetStringAsync("/healthz", Timeout));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Sample_exports_the_TFO_metrics_over_OTLP_when_the_standard_settings_name_a_collector()
    {
        await using var collector = new OtlpReceiver(wanted: "kestreltfo.connections");
        var endpoint = await collector.StartAsync(Timeout);
        await using var app = new KestrelAppFactory<SampleProgram>(settings: new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        using var client = app.CreateClient();

        await client.GetStringAsync("/", Timeout);

        var export = await collector.Received.WaitAsync(TimeSpan.FromSeconds(30), Timeout);
        Assert.Contains(FastOpenMetrics.MeterName, System.Text.Encoding.UTF8.GetString(export), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Sample_serves_the_TFO_metrics_to_Prometheus_at_metrics()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<SampleProgram>();
        await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);
        await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);
        using var client = app.CreateIndependentClient();

        // Prometheus counters end in _total; a connection's series carry the listener's tags and whether it used TFO.
        var scrape = await client.GetStringAsync("/metrics", Timeout);

        Assert.Contains(
            $"kestreltfo_connections_total{{otel_scope_name=\"KestrelTfo\",kestreltfo_fast_open=\"true\",network_type=\"ipv4\",server_address=\"{app.EndPoint.Address}\",server_port=\"{app.EndPoint.Port}\"}} 1\n",
            scrape,
            StringComparison.Ordinal);
        Assert.Contains("kestreltfo_early_data_bytes_total{", scrape, StringComparison.Ordinal);
        Assert.Contains("kestreltfo_kernel_events_total{otel_scope_name=\"KestrelTfo\",kestreltfo_kernel_counter=\"TCPFastOpenPassive\"}", scrape, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_count{", scrape, StringComparison.Ordinal);
        Assert.Contains("kestreltfo_fast_open=\"true\"", scrape[scrape.IndexOf("http_server_request_duration", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }
}
