namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Tests that change <c>net.ipv4.tcp_fastopen</c>. They run one at a time, after the parallel tests,
/// because the setting is shared by the whole network namespace.
/// </summary>
[CollectionDefinition(nameof(SysctlTests), DisableParallelization = true)]
public sealed class SysctlTests;
