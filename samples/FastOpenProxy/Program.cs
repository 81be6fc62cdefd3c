using KestrelTfo;
using KestrelTfo.Client;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

var builder = WebApplication.CreateBuilder(args);

// Both legs: clients reach the proxy with TCP Fast Open, and the proxy reaches the clusters' destinations with it.
builder.WebHost.UseFastOpenTransport();
builder.Services.AddFastOpenConnector();
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddTransforms(transforms => transforms.AddRequestTransform(static context =>
    {
        // A request the proxy's guard flagged may be a replayed SYN's. Forwarded on a pooled connection it would look
        // genuine to the backend, so it goes on marked as RFC 8470 asks of an intermediary: the backend can answer
        // 425 Too Early, as it would to its own IsPossibleReplay.
        if (context.HttpContext.Features.Get<IFastOpenFeature>() is { IsPossibleReplay: true })
        {
            context.ProxyRequest.Headers.TryAddWithoutValidation("Early-Data", "1");
        }

        return ValueTask.CompletedTask;
    }));
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
