namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Tests that count round trips by the clock over an emulated link. They run one at a time, after the parallel
/// tests, so the other tests' load does not show up as round trips that are not there.
/// </summary>
[CollectionDefinition(nameof(RoundTripTimingTests), DisableParallelization = true)]
public sealed class RoundTripTimingTests;
