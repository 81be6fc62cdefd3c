using KestrelTfo.Internal;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds a health check that says whether the app's listeners accept TCP Fast Open.
/// </summary>
public static class HealthChecksBuilderFastOpenExtensions
{
    /// <summary>
    /// Adds a health check that is Healthy when every TCP listener of the fast open transport accepts TCP Fast Open,
    /// and otherwise reports <paramref name="failureStatus"/> with the kernel setting it found and the exact fix.
    /// Its data holds the kernel setting, each listener's state and the kernel's TCP Fast Open counters.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">
    /// The status when TCP Fast Open is off. Defaults to <see cref="HealthStatus.Degraded"/>: the app still serves
    /// every request, one round trip slower for returning clients.
    /// </param>
    /// <param name="tags">Tags for filtering the check.</param>
    /// <returns>The same <paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddFastOpen(
        this IHealthChecksBuilder builder,
        string name = "tcp_fast_open",
        HealthStatus failureStatus = HealthStatus.Degraded,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        return builder.Add(new HealthCheckRegistration(
            name,
            static provider => new FastOpenHealthCheck(provider.GetServices<IConnectionListenerFactory>()),
            failureStatus,
            tags));
    }
}
