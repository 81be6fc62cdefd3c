using KestrelTfo.EarlyData;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.Internal;

/// <summary>
/// Puts the early-data guard for requests in front of the app's pipeline, and gives it a routing-only pipeline over the
/// app's endpoints, so endpoint metadata decides even though the guard runs before the app's own routing.
/// </summary>
internal sealed class EarlyDataRequestStartupFilter(EarlyDataRouting routing) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<EarlyDataRequestMiddleware>();
        next(app);

        // Built after the app's pipeline, when every UseEndpoints has put its endpoints into routing's own data source. An
        // app without routing services has no endpoints to ask about: the default rule decides there.
        if (app.ApplicationServices.GetService<EndpointDataSource>() is null)
        {
            return;
        }

        var routeOnly = app.New();
        routeOnly.Properties[AppEndpointRouteBuilder.GlobalEndpointRouteBuilderKey] = new AppEndpointRouteBuilder(app);
        routeOnly.UseRouting();
        routeOnly.Run(static _ => Task.CompletedTask);
        routing.Route = routeOnly.Build();
    };
}
