namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The times to first byte measured for one scenario at one configured round-trip time, with the round trips its
/// link's path measured in the same run and where each connection's time went (null where the trace fell short);
/// all in milliseconds. A proxied scenario also has the round trips of the link behind the proxy and each connection's
/// backend leg.
/// </summary>
internal sealed record ScenarioResult(
    double RoundTripMilliseconds, IReadOnlyList<double> PathSamples, Scenario Scenario, IReadOnlyList<double> Samples, IReadOnlyList<TimeSplit?> Splits)
{
    /// <summary>For a proxied scenario, the configured RTT of the link between the proxy and the backend.</summary>
    public double? BackendRoundTripMilliseconds { get; init; }

    /// <summary>For a proxied scenario, the round trips its backend link's path measured; empty otherwise.</summary>
    public IReadOnlyList<double> BackendPathSamples { get; init; } = [];

    /// <summary>For a proxied scenario, each connection's backend leg, in the order of <see cref="Samples"/>; null where the trace could not tell.</summary>
    public IReadOnlyList<double?> BackendLegs { get; init; } = [];

    public double Median => Percentile(Samples, 0.5);

    public double P90 => Percentile(Samples, 0.9);

    /// <summary>The median round trip of the path, as a plain TCP handshake measured it (see <see cref="PathRoundTripProbe"/>).</summary>
    public double PathRoundTrip => Percentile(PathSamples, 0.5);

    /// <summary>The median in round trips of the measured path: what the bounds are judged on.</summary>
    public double MedianInRoundTrips => Median / PathRoundTrip;

    /// <summary>The p90 in round trips of the measured path.</summary>
    public double P90InRoundTrips => P90 / PathRoundTrip;

    /// <summary>The median in round trips of the configured RTT, which also counts the emulator's own forwarding time against the server.</summary>
    public double MedianInConfiguredRoundTrips => Median / RoundTripMilliseconds;

    /// <summary>
    /// How far the median lies beyond the physical limit of its protocol, counted in the measured path: the time that
    /// is not round trips (TLS and HTTP work on both ends, thread wake-ups), so it is not expected to scale with the RTT.
    /// </summary>
    public double BeyondLimit => Median - LimitMilliseconds;

    /// <summary>The limit in milliseconds of the measured paths: the client's leg, and the backend's behind a proxy.</summary>
    public double LimitMilliseconds => Scenario.LimitInRoundTrips * PathRoundTrip + (Scenario.Proxied ? Scenario.BackendLimitInRoundTrips * BackendPathRoundTrip : 0);

    /// <summary>The median round trip of the backend link's path; NaN without a proxy.</summary>
    public double BackendPathRoundTrip => BackendPathSamples.Count > 0 ? Percentile(BackendPathSamples, 0.5) : double.NaN;

    /// <summary>The median backend leg; NaN when no connection's could be told.</summary>
    public double BackendLegMedian => BackendLegs.OfType<double>().ToArray() is { Length: > 0 } legs ? Percentile(legs, 0.5) : double.NaN;

    /// <summary>The median of each connection's time less its backend leg: the client's leg with the proxy's own work.</summary>
    public double ClientLegMedian =>
        Samples.Zip(BackendLegs, (sample, leg) => sample - leg).OfType<double>().ToArray() is { Length: > 0 } legs ? Percentile(legs, 0.5) : double.NaN;

    /// <summary>How many connections' backend legs the trace could not tell.</summary>
    public int UnmeasuredBackendLegs => BackendLegs.Count(leg => leg is null);

    /// <summary>The median time the server held a connection's critical path (see <see cref="TimeSplit"/>); NaN when no connection split.</summary>
    public double ServerMedian => SplitMedian(split => split.Server);

    /// <summary>The median time the client held a connection's critical path; NaN when no connection split.</summary>
    public double ClientMedian => SplitMedian(split => split.Client);

    /// <summary>How many connections the trace could not split.</summary>
    public int Unsplit => Splits.Count(split => split is null);

    private double SplitMedian(Func<TimeSplit, double> part) =>
        Splits.OfType<TimeSplit>().Select(part).ToArray() is { Length: > 0 } values ? Percentile(values, 0.5) : double.NaN;

    private static double Percentile(IReadOnlyList<double> samples, double fraction)
    {
        var sorted = samples.Order().ToArray();
        // Linear interpolation between closest ranks, so the median of an even count is the mean of the middle two.
        var position = fraction * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }
}
