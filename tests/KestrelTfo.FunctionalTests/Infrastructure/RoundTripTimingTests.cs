namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Tests over an emulated link whose outcome rests on the link's timing: delays that keep a race one-sided, a replay's
/// arrival, a retransmission timeout, or a trace without retransmissions. They run one at a time, after the parallel
/// tests, so the other tests' load does not stall the link past what those timings allow.
/// </summary>
[CollectionDefinition(nameof(RoundTripTimingTests), DisableParallelization = true)]
public sealed class RoundTripTimingTests;
