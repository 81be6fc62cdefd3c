namespace KestrelTfo.Fleet;

/// <summary>What a probe of the service address saw, after the connection that fetched the cookie.</summary>
/// <param name="Connections">Each connection, in order.</param>
/// <param name="Instances">What each instance's kernel counted, by instance.</param>
public sealed record FleetProbeResult(IReadOnlyList<FleetConnection> Connections, IReadOnlyList<FleetInstanceCounts> Instances)
{
    /// <summary>Gets the connections whose SYN data the client's kernel saw acknowledged.</summary>
    public int FastOpen => Connections.Count(c => c.ClientFastOpen);

    /// <summary>Gets the connections without a whole answer.</summary>
    public int Failed => Connections.Count(c => !c.Succeeded);
}
