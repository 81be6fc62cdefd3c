using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timer callbacks it has run. <see cref="FakeTimeProvider.Advance"/> runs
/// the callbacks that fall due before it returns, so right after it the count says exactly whether a timer fired, even
/// while the work that the callback set going (a continuation, a cancellation's callbacks) is still on its way.
/// </summary>
internal sealed class TimerCountingTimeProvider : FakeTimeProvider
{
    private int _fired;

    public int Fired => Volatile.Read(ref _fired);

    /// <summary>
    /// Moves the clock on by <paramref name="dueIn"/>, the time left to a timer's due time, and checks that one timer
    /// fires on the last tick and none one tick before it.
    /// </summary>
    public void AdvanceThroughDueTime(TimeSpan dueIn)
    {
        var fired = Fired;
        Advance(dueIn - TimeSpan.FromTicks(1));
        Assert.Equal(fired, Fired);
        Advance(TimeSpan.FromTicks(1));
        Assert.Equal(fired + 1, Fired);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        base.CreateTimer(
            state =>
            {
                Interlocked.Increment(ref _fired);
                callback(state);
            },
            state,
            dueTime,
            period);
}
