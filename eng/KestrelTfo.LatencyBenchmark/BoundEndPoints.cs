using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>Where a started app's listeners are bound.</summary>
internal static class BoundEndPoints
{
    /// <summary>The bound endpoints, in the order the app added its listeners (port 0 resolved).</summary>
    public static IPEndPoint[] Of(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(uri => new Uri(uri))
            .Select(uri => new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port))
            .ToArray();
}
