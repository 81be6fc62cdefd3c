using KestrelTfo;
using KestrelTfo.TestApp;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseFastOpenTransport();
builder.Services.AddSingleton<RequestGate>();
builder.Services.AddSingleton<RequestLedger>();
builder.Services.AddHealthChecks().AddFastOpen();
builder.Services.AddGrpc();

var app = builder.Build();

app.MapHealthChecks("/health");

// What the connection's TLS settled, whichever layer terminated it.
app.MapGet("/tls", (Func<HttpContext, Task<TlsReport>>)TlsReport.FromAsync);

// A long response that many TLS records carry, its every byte checkable.
app.MapGet("/bytes/{length:int}", (int length) => Results.Bytes(PatternBytes.Of(length), "application/octet-stream"));

app.MapGet("/tfo", (HttpContext context) => FastOpenReport.From(context.Features.Get<IFastOpenFeature>()));

// Asked per request, unlike the rest of the report, which describes the connection.
app.MapGet("/possible-replay", (HttpContext context) => context.Features.Get<IFastOpenFeature>()?.IsPossibleReplay ?? false);

// The RFC 8470 mark a proxy puts on a request that may be a replay, as this app received it.
app.MapGet("/early-data-header", (HttpContext context) => context.Request.Headers["Early-Data"].ToString());

app.MapGrpcService<FastOpenReportService>();

// Stands for a request that must not run twice; it answers with what the connection's feature said.
app.MapPost("/transfer", (HttpContext context, RequestLedger ledger) =>
{
    var feature = context.Features.Get<IFastOpenFeature>();
    var report = FastOpenReport.From(feature);
    ledger.RecordTransfer(report, feature?.IsPossibleReplay ?? false);
    return report;
});

// What the early-data guard knew and did about this request; "none" for a request that was no early data.
app.MapGet("/early-data", EarlyDataReport.Of);
app.MapPost("/early-data", EarlyDataReport.Of);
app.MapGet("/early-data-strict", EarlyDataReport.Of).WithEarlyData(EarlyDataRequestHandling.WaitForHandshake);
app.MapGet("/early-data-too-early", EarlyDataReport.Of).WithEarlyData(EarlyDataRequestHandling.TooEarly);

// The same answer, and the connection closes after it: a proxy's next request here opens a new backend connection.
app.MapGet("/early-data-then-close", (HttpContext context) =>
{
    context.Response.Headers.Connection = "close";
    return EarlyDataReport.Of(context);
});

// A transfer whose handler the app declares idempotent: it may run at once from early data.
app.MapPost("/transfer-idempotent", (HttpContext context, RequestLedger ledger) =>
{
    var feature = context.Features.Get<IFastOpenFeature>();
    ledger.RecordTransfer(FastOpenReport.From(feature), context.Features.Get<IEarlyDataRequestFeature>()?.IsPossibleReplay ?? false);
    return EarlyDataReport.Of(context);
}).WithEarlyData(EarlyDataRequestHandling.RunAtOnce);

app.MapGet("/visit", (RequestLedger ledger) =>
{
    ledger.RecordVisit();
    return "visited";
});

// Routing runs a short-circuit endpoint as soon as it matches it: the guard's own matching must not.
app.MapGet("/visit-short-circuit", (RequestLedger ledger) =>
{
    ledger.RecordVisit();
    return "visited";
}).ShortCircuit();

// A redirect to ?to= with ?status= (302 unless given), for clients that follow redirects themselves.
app.MapMethods("/redirect", ["GET", "POST"], (HttpContext context) =>
{
    context.Response.StatusCode = int.TryParse(context.Request.Query["status"], out var status) ? status : StatusCodes.Status302Found;
    context.Response.Headers.Location = context.Request.Query["to"].ToString();
});

// What a request carried that a redirect or a cookie container decides: its method, Authorization and Cookie.
app.MapMethods("/echo", ["GET", "POST"], (HttpContext context) =>
    $"{context.Request.Method} authorization={context.Request.Headers.Authorization} cookie={context.Request.Headers.Cookie} host={context.Request.Host}");

// Sets a cookie only an https request may carry back.
app.MapGet("/secure-cookie", (HttpContext context) =>
{
    context.Response.Cookies.Append("session", "s3cret", new CookieOptions { Secure = true, Path = "/" });
    return "set";
});

app.MapGet("/hold", async (RequestGate gate) =>
{
    await gate.EnterAndWaitAsync();
    return "released";
});

app.Run();

/// <summary>The test app's entry point, for WebApplicationFactory.</summary>
public partial class Program;
