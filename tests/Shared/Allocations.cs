namespace KestrelTfo.Testing;

/// <summary>What code allocates on the calling thread, judged so that the runtime's own occasional work does not count.</summary>
internal static class Allocations
{
    /// <summary>
    /// Runs <paramref name="round"/> several times and returns the fewest bytes one run allocated on this thread: an
    /// allocation in the code under test shows in every run, while the runtime's first-use work (tiering, a type
    /// initialiser) lands in one now and then.
    /// </summary>
    public static long Fewest(Action round, int rounds = 5)
    {
        var fewest = long.MaxValue;
        for (var i = 0; i < rounds; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            round();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }
}
