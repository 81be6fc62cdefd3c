namespace KestrelTfo.Testing;

/// <summary>
/// Every test's time limit (xunit's <c>Timeout</c>): a test whose background work fails ends as a failure at its limit
/// and cancels <c>TestContext.Current.CancellationToken</c>, instead of waiting until the run itself is killed.
/// </summary>
internal static class Limits
{
    /// <summary>For a test of a few exchanges; far above what any takes on a loaded machine.</summary>
    public const int Test = 60_000;

    /// <summary>For a test over an emulated link with long delays, or many connections.</summary>
    public const int LongTest = 180_000;
}
