namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Tests that assert exact moves of the kernel's TCP Fast Open counters (<c>/proc/net/netstat</c>). The counters are
/// the whole network namespace's, so these run one at a time, after the parallel tests, with nothing else moving them.
/// </summary>
[CollectionDefinition(nameof(KernelCounterTests), DisableParallelization = true)]
public sealed class KernelCounterTests;
