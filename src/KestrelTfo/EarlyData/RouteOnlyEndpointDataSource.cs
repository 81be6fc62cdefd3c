using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace KestrelTfo.EarlyData;

/// <summary>
/// The app's route endpoints as the early-data guard's routing sees them: same patterns, order and metadata, but a
/// handler that does nothing, so that matching a request never runs its endpoint (routing runs a short-circuit endpoint
/// as soon as it matches it).
/// </summary>
internal sealed class RouteOnlyEndpointDataSource(EndpointDataSource app) : EndpointDataSource
{
    private static readonly RequestDelegate s_nothing = static _ => Task.CompletedTask;

    private readonly Lock _sync = new();
    private IReadOnlyList<Endpoint>? _source;
    private IReadOnlyList<Endpoint> _endpoints = [];

    public override IReadOnlyList<Endpoint> Endpoints
    {
        get
        {
            var source = app.Endpoints;
            lock (_sync)
            {
                if (!ReferenceEquals(source, _source))
                {
                    _endpoints = [.. source.OfType<RouteEndpoint>().Select(Strip)];
                    _source = source;
                }

                return _endpoints;
            }
        }
    }

    public override IChangeToken GetChangeToken() => app.GetChangeToken();

    private static RouteEndpoint Strip(RouteEndpoint endpoint) => new(
        s_nothing,
        endpoint.RoutePattern,
        endpoint.Order,
        endpoint.Metadata,
        endpoint.DisplayName);
}
