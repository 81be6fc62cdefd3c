using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Stands in for an OpenTelemetry collector on loopback: takes OTLP/HTTP metric exports and completes
/// <see cref="Received"/> with the first one that mentions the wanted text (protobuf keeps names as UTF-8).
/// </summary>
internal sealed class OtlpReceiver(string wanted) : IAsyncDisposable
{
    private readonly TaskCompletionSource<byte[]> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;

    public Task<byte[]> Received => _received.Task;

    public async Task<Uri> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(Loopback.NextAddress(), 0));
        _app = builder.Build();
        _app.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (Encoding.UTF8.GetString(body.ToArray()).Contains(wanted, StringComparison.Ordinal))
            {
                _received.TrySetResult(body.ToArray());
            }

            return Results.Ok();
        });
        await _app.StartAsync(cancellationToken);
        return ServerEndPoints.BaseAddress(_app.Services);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
