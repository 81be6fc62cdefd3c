namespace KestrelTfo.Fleet;

/// <summary>What an early-data probe of the service address saw, after the connection that fetched the first session.</summary>
/// <param name="Connections">Each connection, in order.</param>
public sealed record FleetEarlyDataProbeResult(IReadOnlyList<FleetTlsConnection> Connections)
{
    /// <summary>Gets the connections whose early data the fleet accepted.</summary>
    public int Accepted => Connections.Count(c => c.EarlyDataAccepted);

    /// <summary>Gets the connections whose early data the fleet declined, answered after the handshake instead.</summary>
    public int Declined => Connections.Count(c => c.Succeeded && !c.EarlyDataAccepted);

    /// <summary>Gets the connections that resumed their session.</summary>
    public int Resumed => Connections.Count(c => c.Resumed);

    /// <summary>Gets the connections without a whole answer.</summary>
    public int Failed => Connections.Count(c => !c.Succeeded);
}
