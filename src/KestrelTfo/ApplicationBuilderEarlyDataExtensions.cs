using KestrelTfo.EarlyData;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Extensions that place the early-data guard in the request pipeline.</summary>
public static class ApplicationBuilderEarlyDataExtensions
{
    /// <summary>
    /// Runs the early-data guard here, where the endpoint is known, so that endpoint metadata
    /// (<c>[EarlyData(...)]</c>, <c>.WithEarlyData(...)</c>) decides what happens to its requests that may be replays.
    /// Call it right after <c>UseRouting()</c>, before middleware that acts on requests.
    /// </summary>
    /// <remarks>
    /// Without this call the guard still runs, first in the pipeline, with the default rule for every request: safe
    /// methods at once, others as <c>UnsafeEarlyDataRequests</c> says. With it, that first guard only marks such
    /// requests and leaves the decision here.
    /// </remarks>
    /// <param name="app">The application's pipeline.</param>
    /// <returns>The same <paramref name="app"/>.</returns>
    /// <exception cref="InvalidOperationException">The app does not use the TCP Fast Open transport.</exception>
    public static IApplicationBuilder UseEarlyDataGuard(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var placement = app.ApplicationServices.GetService<EarlyDataGuardPlacement>()
            ?? throw new InvalidOperationException("UseEarlyDataGuard needs the TCP Fast Open transport: call builder.WebHost.UseFastOpenTransport().");
        placement.AfterRouting = true;
        return app.UseMiddleware<EarlyDataRequestMiddleware>(true);
    }
}
