namespace KestrelTfo.LatencyBenchmark;

/// <summary>The times to first byte measured for one scenario at one round-trip time, in milliseconds.</summary>
internal sealed record ScenarioResult(double RoundTripMilliseconds, Scenario Scenario, IReadOnlyList<double> Samples)
{
    public double Median => Percentile(0.5);

    public double P90 => Percentile(0.9);

    public double MedianInRoundTrips => Median / RoundTripMilliseconds;

    public double P90InRoundTrips => P90 / RoundTripMilliseconds;

    private double Percentile(double fraction)
    {
        var sorted = Samples.Order().ToArray();
        // Linear interpolation between closest ranks, so the median of an even count is the mean of the middle two.
        var position = fraction * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }
}
