using Microsoft.AspNetCore.Http;

namespace KestrelTfo.EarlyData;

/// <summary>
/// The app's endpoint routing, for the early-data guard: it runs before the app's own middleware, where routing has not
/// chosen an endpoint yet, so for a request that may be a replay it asks routing itself which endpoint will handle it.
/// Routing skips its own match later when an endpoint is already set, so the request goes on as it would have.
/// </summary>
internal sealed class EarlyDataRouting
{
    /// <summary>A pipeline that only routes, against the app's endpoints; null until the app's pipeline is built.</summary>
    public RequestDelegate? Route { get; set; }
}
