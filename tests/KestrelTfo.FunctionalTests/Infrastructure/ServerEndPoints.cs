using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>The one lookup of where a started host listens.</summary>
internal static class ServerEndPoints
{
    /// <summary>The host's TCP endpoints, with the ports Kestrel picked, in the order the host listed them.</summary>
    public static IReadOnlyList<IPEndPoint> Of(IServiceProvider services) =>
        [.. services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(address => new Uri(address))
            .Where(uri => IPAddress.TryParse(uri.Host, out _))
            .Select(uri => new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port))];

    /// <summary>The base address of the host's first TCP endpoint.</summary>
    public static Uri BaseAddress(IServiceProvider services, string scheme = "http")
    {
        var endPoint = Of(services)[0];
        return new Uri($"{scheme}://{endPoint}");
    }
}
