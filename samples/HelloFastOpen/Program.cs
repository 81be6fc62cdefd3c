using KestrelTfo;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseFastOpenTransport();
builder.Services.AddHealthChecks().AddFastOpen();

var app = builder.Build();

app.MapGet("/", (HttpContext context) =>
    context.Features.Get<IFastOpenFeature>() is { IsFastOpen: true } tfo
        ? $"this connection used TFO ({tfo.EarlyDataLength} bytes of early data)\n"
        : "this connection did not use TFO\n");

app.MapHealthChecks("/healthz");

// With an OpenTelemetry collector's address in Otlp:Endpoint (or Otlp__Endpoint), the TFO metrics go there.
using var metrics = app.Configuration["Otlp:Endpoint"] is { } endpoint
    ? Sdk.CreateMeterProviderBuilder()
        .AddMeter(FastOpenMetrics.MeterName)
        .AddOtlpExporter((exporter, reader) =>
        {
            exporter.Endpoint = new Uri(new Uri(endpoint), "v1/metrics");
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds =
                app.Configuration.GetValue("Otlp:ExportIntervalMilliseconds", 10_000);
        })
        .Build()
    : null;

app.Run();

/// <summary>The sample's entry point, public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
