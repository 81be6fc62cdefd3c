using KestrelTfo;
using KestrelTfo.TestApp;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseFastOpenTransport();
builder.Services.AddSingleton<RequestGate>();

var app = builder.Build();

app.MapGet("/tfo", (HttpContext context) => FastOpenReport.From(context.Features.Get<IFastOpenFeature>()));

// The same report for a request with a body, which a client must never put in a SYN.
app.MapPost("/tfo", async (HttpContext context) =>
{
    await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
    return FastOpenReport.From(context.Features.Get<IFastOpenFeature>());
});

app.MapGet("/hold", async (RequestGate gate) =>
{
    await gate.EnterAndWaitAsync();
    return "released";
});

app.Run();

/// <summary>The test app's entry point, for WebApplicationFactory.</summary>
public partial class Program;
