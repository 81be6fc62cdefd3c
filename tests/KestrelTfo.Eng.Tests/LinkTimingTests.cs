namespace KestrelTfo.Eng.Tests;

/// <summary>Tests that time packets over an emulated link: one at a time, so that none competes with another for the CPU.</summary>
[CollectionDefinition(nameof(LinkTimingTests), DisableParallelization = true)]
public sealed class LinkTimingTests;
