using System.Net;
using KestrelTfo.NetEmu;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// A scenario as one RTT's run measures it: the link its client connects over, that link's round-trip probe, the
/// server's endpoint, for a proxied scenario the link behind the proxy and its probe, and what was measured so far.
/// </summary>
internal sealed class Case(Scenario scenario, EmulatedLink link, PathRoundTripProbe path, IPEndPoint server, EmulatedLink? backendLink = null, PathRoundTripProbe? backendPath = null)
{
    public Scenario Scenario => scenario;

    public EmulatedLink Link => link;

    public PathRoundTripProbe Path => path;

    public IPEndPoint Server => server;

    /// <summary>The link between the proxy and the backend; <see langword="null"/> without a proxy.</summary>
    public EmulatedLink? BackendLink => backendLink;

    public PathRoundTripProbe? BackendPath => backendPath;

    /// <summary>Times to first byte, in milliseconds.</summary>
    public List<double> Samples { get; } = [];

    /// <summary>Where each connection's time went, in the order of <see cref="Samples"/>.</summary>
    public List<TimeSplit?> Splits { get; } = [];

    /// <summary>For a proxied scenario, each connection's backend leg (see <see cref="LatencyBenchmark.BackendLeg"/>), in the order of <see cref="Samples"/>.</summary>
    public List<double?> BackendLegs { get; } = [];

    public ScenarioResult Result(double roundTripMilliseconds, double backendRoundTripMilliseconds) => new(
        roundTripMilliseconds, Path.Samples.ToArray(), Scenario, Samples, Splits)
    {
        BackendRoundTripMilliseconds = BackendLink is null ? null : backendRoundTripMilliseconds,
        BackendPathSamples = BackendPath?.Samples.ToArray() ?? [],
        BackendLegs = BackendLegs,
    };
}
