using System.Net;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Kestrel on its default socket transport (no TCP Fast Open), serving the test app's <c>/tfo</c> report, on an
/// address the test picks: a TFO client may hold a cookie for it from an earlier server.
/// </summary>
internal sealed class PlainKestrel : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PlainKestrel(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<PlainKestrel> StartAsync(IPAddress address, bool https, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(address, 0, listen =>
        {
            if (https)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(TestCertificate.Instance);
            }
        }));
        var app = builder.Build();
        app.MapGet("/tfo", (HttpContext context) => FastOpenReport.From(context.Features.Get<IFastOpenFeature>()));
        await app.StartAsync(cancellationToken);
        return new PlainKestrel(app, ServerEndPoints.BaseAddress(app.Services, https ? "https" : "http"));
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
