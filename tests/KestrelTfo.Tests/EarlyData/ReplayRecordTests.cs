using KestrelTfo.EarlyData;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.Tests.EarlyData;

public sealed class ReplayRecordTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_same_bytes_again_within_the_window_are_a_duplicate()
    {
        var record = new ReplayRecord(TimeSpan.FromSeconds(10), ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);

        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(1)));
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(2)));
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(1)));
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(2)));
    }

    [Fact]
    public void After_the_window_the_same_bytes_are_new_again()
    {
        var record = new ReplayRecord(TimeSpan.FromSeconds(10), ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(1)));

        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(1)));
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(1)));
    }

    [Fact]
    public void The_window_ends_exactly_when_it_says()
    {
        var window = TimeSpan.FromSeconds(10);
        var record = new ReplayRecord(window, ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(1)));

        _time.Advance(window);
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(1)));

        // Seen again, it is still remembered from its first sighting: one tick on, the window is over.
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(1)));
    }

    [Fact]
    public void Memory_is_bounded_by_forgetting_the_oldest()
    {
        var record = new ReplayRecord(TimeSpan.FromHours(1), ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);
        for (var i = 0; i <= ReplayRecord.DebouncerCapacity; i++)
        {
            Assert.Equal(ReplayRecordResult.New, record.Record(Hello(i)));
        }

        // The first one was pushed out by the last; the newest are still remembered.
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(0)));
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(ReplayRecord.DebouncerCapacity)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Under_concurrent_use_each_hello_is_new_exactly_once_and_every_copy_is_caught()
    {
        const int Threads = 8;
        const int Distinct = 800;
        const int Copies = 4;
        var record = new ReplayRecord(TimeSpan.FromHours(1), ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);
        var hellos = Enumerable.Range(0, Distinct).Select(Hello).ToArray();
        var firstSightings = new int[Distinct];
        using var start = new Barrier(Threads);

        // Each thread sends every hello once, from its own starting point, so copies of one hello race each other on
        // different threads; with the fresh ones they stay under the capacity, so nothing is evicted and every copy must be caught.
        var workers = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (var i = 0; i < Distinct; i++)
            {
                var which = (i + thread * Distinct / Threads) % Distinct;
                if (thread % (Threads / Copies) == 0 && record.Record(hellos[which]) == ReplayRecordResult.New)
                {
                    Interlocked.Increment(ref firstSightings[which]);
                }
                else if (thread % (Threads / Copies) != 0)
                {
                    // The other threads send unrelated fresh hellos meanwhile, contending for the same lock.
                    Assert.Equal(ReplayRecordResult.New, record.Record(Hello(Distinct + thread * Distinct + i)));
                }
            }
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));

        await Task.WhenAll(workers).WaitAsync(TestContext.Current.CancellationToken);

        Assert.All(firstSightings, count => Assert.Equal(1, count));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_flood_past_the_capacity_from_many_threads_throws_nothing_and_the_newest_are_still_caught()
    {
        const int Threads = 8;
        const int PerThread = ReplayRecord.DebouncerCapacity;
        var record = new ReplayRecord(TimeSpan.FromHours(1), ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);
        using var start = new Barrier(Threads);

        var workers = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (var i = 0; i < PerThread; i++)
            {
                Assert.Equal(ReplayRecordResult.New, record.Record(Hello(thread * PerThread + i)));
            }
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        await Task.WhenAll(workers).WaitAsync(TestContext.Current.CancellationToken);

        // Eight times the capacity went in; the memory kept working: a hello recorded now is caught on its copy.
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(int.MaxValue)));
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(int.MaxValue)));
    }

    [Fact]
    public void An_attacker_who_sends_enough_fresh_hellos_within_the_window_evicts_a_recorded_one_and_its_replay_is_not_caught()
    {
        var victim = Hello(int.MaxValue);
        var attacker = 0;
        ReplayRecord Recorded(out int fresh, int count)
        {
            var record = new ReplayRecord(TimeSpan.FromHours(1), ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, _time);
            Assert.Equal(ReplayRecordResult.New, record.Record(victim));
            for (fresh = 0; fresh < count; fresh++)
            {
                Assert.Equal(ReplayRecordResult.New, record.Record(Hello(attacker++)));
            }

            return record;
        }

        // One fresh hello fewer and the replay is still caught; the lookup makes room before it looks, so a full memory
        // has already forgotten its oldest when a copy of it arrives. Harmless: a replayed ClientHello makes the server
        // answer a handshake nobody completes, which is all debouncing saves; what is not replay-safe never reaches it.
        Assert.Equal(ReplayRecordResult.Seen, Recorded(out _, ReplayRecord.DebouncerCapacity - 2).Record(victim));
        Assert.Equal(ReplayRecordResult.New, Recorded(out _, ReplayRecord.DebouncerCapacity - 1).Record(victim));
    }

    private static byte[] Hello(int seed)
    {
        var bytes = new byte[200];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void A_full_record_that_refuses_keeps_every_entry_and_turns_new_ones_away_until_the_window_frees_room()
    {
        var record = new ReplayRecord(TimeSpan.FromSeconds(12), 3, ReplayRecordFull.Refuse, _time);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ReplayRecordResult.New, record.Record(Hello(i)));
        }

        Assert.Equal(ReplayRecordResult.Full, record.Record(Hello(3)));
        Assert.Equal(ReplayRecordResult.Seen, record.Record(Hello(0)));
        Assert.Equal(3, record.Count);

        _time.Advance(TimeSpan.FromSeconds(13));

        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(3)));
        Assert.Equal(ReplayRecordResult.New, record.Record(Hello(0)));
    }
}
