using KestrelTfo.EarlyData;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace KestrelTfo.Internal;

/// <summary>Puts the early-data guard for requests first in the app's pipeline, before any of the app's own middleware.</summary>
internal sealed class EarlyDataRequestStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<EarlyDataRequestMiddleware>(false);
        next(app);
    };
}
