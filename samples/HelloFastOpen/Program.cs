using KestrelTfo;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseFastOpenTransport();

var app = builder.Build();

app.MapGet("/", (HttpContext context) =>
    context.Features.Get<IFastOpenFeature>() is { IsFastOpen: true } tfo
        ? $"this connection used TFO ({tfo.EarlyDataLength} bytes of early data)\n"
        : "this connection did not use TFO\n");

app.Run();

/// <summary>The sample's entry point, public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
