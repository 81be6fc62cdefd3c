namespace KestrelTfo.Testing;

/// <summary>
/// The one bounded wait for a condition that nothing signals (a kernel table, a port that stops answering): checks it
/// every few milliseconds until it holds or the limit passes, so no test sleeps and hopes, and none waits forever.
/// </summary>
internal static class Bounded
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(20);

    /// <summary>Whether <paramref name="condition"/> held before <paramref name="limit"/> passed.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan limit, CancellationToken cancellationToken) =>
        await UntilAsync(() => Task.FromResult(condition()), limit, cancellationToken);

    /// <summary>Whether <paramref name="condition"/> held before <paramref name="limit"/> passed.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(s_interval, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="condition"/> held before <paramref name="limit"/> passed, checked again each time
    /// <paramref name="changed"/> is released (by whatever changes what the condition reads), not on a timer.
    /// </summary>
    public static async Task<bool> UntilSignalledAsync(Func<bool> condition, SemaphoreSlim changed, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await changed.WaitAsync(left, cancellationToken))
            {
                return condition();
            }
        }

        return true;
    }
}
