using KestrelTfo;
using KestrelTfo.Client;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

var builder = WebApplication.CreateBuilder(args);

// Both legs: clients reach the proxy with TCP Fast Open, and the proxy reaches the clusters' destinations with it.
builder.WebHost.UseFastOpenTransport();
// The forwarding clients' connector, its options from the FastOpenClient section: TlsEarlyData sends a GET to an https
// destination as TLS 1.3 early data once the proxy holds a ticket from it.
builder.Services.AddFastOpenConnector();
builder.Services.Configure<FastOpenConnectOptions>(builder.Configuration.GetSection("FastOpenClient"));
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddTransforms(transforms => transforms.AddRequestTransform(EarlyDataMark.ApplyAsync));
builder.Services.AddSingleton<IForwarderHttpClientFactory, FastOpenForwarderHttpClientFactory>();
builder.Services.AddHealthChecks().AddFastOpen();

// The listener's metrics and the forwarding client's, beside ASP.NET Core's own: scraped at /metrics, and exported over
// OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (with the other OTEL_* settings) says where.
var telemetry = builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter(FastOpenMetrics.MeterName, FastOpenClientMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
    .AddPrometheusExporter());
if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
{
    telemetry.UseOtlpExporter();
}

var app = builder.Build();

app.MapHealthChecks("/healthz");
app.MapPrometheusScrapingEndpoint();
app.MapReverseProxy();

app.Run();

/// <summary>The sample's entry point, public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
