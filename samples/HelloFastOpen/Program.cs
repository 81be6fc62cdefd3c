using KestrelTfo;
using OpenTelemetry;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseFastOpenTransport();
builder.Services.AddHealthChecks().AddFastOpen();

// HTTPS endpoints from configuration (Kestrel:Endpoints:NAME:Url = https://..., with a Certificate) are served by the
// TLS layer on OpenSSL 3; where OpenSSL 3 cannot be loaded they stay on Kestrel's own HTTPS, and a warning says so.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.UseOpenSslHttpsForConfiguredEndpoints());

// The transport's metrics beside ASP.NET Core's own, whose request and connection durations carry kestreltfo.fast_open:
// scraped at /metrics, and exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (with the other OTEL_* settings) says where.
var telemetry = builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter(FastOpenMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
    .AddPrometheusExporter());
if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
{
    telemetry.UseOtlpExporter();
}

var app = builder.Build();

app.MapGet("/", (HttpContext context) =>
    context.Features.Get<IFastOpenFeature>() is { IsFastOpen: true } tfo
        ? $"this connection used TFO ({tfo.EarlyDataLength} bytes of early data)\n"
        : "this connection did not use TFO\n");

app.MapHealthChecks("/healthz");
app.MapPrometheusScrapingEndpoint();

app.Run();

/// <summary>The sample's entry point, public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
