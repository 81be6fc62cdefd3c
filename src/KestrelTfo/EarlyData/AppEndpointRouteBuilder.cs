using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.EarlyData;

/// <summary>
/// All the app's endpoints, as routing's own <see cref="EndpointDataSource"/> service composes them from every
/// <c>UseEndpoints</c> and <c>WebApplication</c>, for the early-data guard's routing-only pipeline, which only matches
/// (<see cref="RouteOnlyEndpointDataSource"/>).
/// </summary>
internal sealed class AppEndpointRouteBuilder(IApplicationBuilder app) : IEndpointRouteBuilder
{
    /// <summary>
    /// The property <c>UseRouting()</c> reads the route builder from, as <c>WebApplication</c> sets it
    /// (<c>WebApplication.GlobalEndpointRouteBuilderKey</c>, internal to ASP.NET Core). The one use of an ASP.NET Core
    /// internal in this product: if a release renames it, <c>UseRouting</c> matches nothing here, the guard falls back to
    /// the default rule, and <c>EarlyDataRequestTests</c>' endpoint metadata test fails.
    /// </summary>
    public const string GlobalEndpointRouteBuilderKey = "__GlobalEndpointRouteBuilder";

    public IServiceProvider ServiceProvider { get; } = app.ApplicationServices;

    public ICollection<EndpointDataSource> DataSources { get; } = [new RouteOnlyEndpointDataSource(app.ApplicationServices.GetRequiredService<EndpointDataSource>())];

    public IApplicationBuilder CreateApplicationBuilder() => app.New();
}
