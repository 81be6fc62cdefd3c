using System.Net;

namespace KestrelTfo.Fleet;

/// <summary>
/// Probes TLS 1.3 early data on a fleet that serves HTTPS (<see cref="FleetOptions.HttpsPort"/>) from the client's
/// namespace, with <c>openssl s_client</c>: one session, each new connection resuming the session the one before got,
/// with its request as early data (<see cref="FleetTlsSession"/>).
/// </summary>
public static class FleetEarlyDataProbe
{
    private static readonly TimeSpan s_retryInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Fetches a first session, then opens <paramref name="connections"/> connections to the service address one after another.</summary>
    /// <param name="fleet">The fleet.</param>
    /// <param name="connections">Connections after the one that fetched the first session.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>What each connection saw.</returns>
    /// <exception cref="InvalidOperationException">The first connection got no answer or no ticket.</exception>
    public static async Task<FleetEarlyDataProbeResult> RunAsync(EmulatedFleet fleet, int connections, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        using var session = new FleetTlsSession(fleet);
        var first = await session.ConnectAsync(fleet.HttpsServiceEndPoint, cancellationToken).ConfigureAwait(false);
        if (!first.Succeeded || !session.HasTicket)
        {
            throw new InvalidOperationException($"the connection that fetches the first session got {(first.Succeeded ? "no ticket" : "no answer")} from {fleet.HttpsServiceEndPoint}");
        }

        var seen = new List<FleetTlsConnection>(connections);
        for (var i = 0; i < connections; i++)
        {
            seen.Add(await session.ConnectAsync(fleet.HttpsServiceEndPoint, cancellationToken).ConfigureAwait(false));
        }

        return new FleetEarlyDataProbeResult(seen);
    }

    /// <summary>
    /// Waits, bounded, until every instance accepts early data, each reached at its own address past the balancer with a
    /// session it issued. An instance with configured ticket keys declines early data for its replay window after it
    /// starts (outcome <c>restart_window</c>); this is the readiness check that says the window has passed, without a
    /// copy of its length.
    /// </summary>
    /// <param name="fleet">The fleet.</param>
    /// <param name="limit">How long to wait for each instance.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when every instance has accepted early data.</returns>
    /// <exception cref="TimeoutException">An instance did not accept early data in time.</exception>
    public static async Task WaitUntilEveryInstanceAcceptsAsync(EmulatedFleet fleet, TimeSpan limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        foreach (var instance in fleet.Instances)
        {
            await WaitUntilAcceptsAsync(fleet, instance, limit, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits, bounded, until <paramref name="instance"/> accepts early data (see <see cref="WaitUntilEveryInstanceAcceptsAsync"/>).</summary>
    /// <param name="fleet">The fleet.</param>
    /// <param name="instance">One of its instances.</param>
    /// <param name="limit">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the instance has accepted early data.</returns>
    /// <exception cref="TimeoutException">The instance did not accept early data in time.</exception>
    public static async Task WaitUntilAcceptsAsync(EmulatedFleet fleet, FleetInstance instance, TimeSpan limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(instance);
        using var session = new FleetTlsSession(fleet);
        var target = new IPEndPoint(instance.Address, fleet.HttpsPort);
        var deadline = DateTime.UtcNow + limit;
        FleetTlsConnection? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var tried = session.HasTicket;
            last = await session.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            if (last.EarlyDataAccepted)
            {
                return;
            }

            // The first connection only fetches the session: offer it at once.
            if (tried)
            {
                await Task.Delay(s_retryInterval, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"instance {instance.Index} did not accept early data within {limit.TotalSeconds:0.#} s; last connection: {last}");
    }
}
