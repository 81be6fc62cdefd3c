using KestrelTfo.EarlyData;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.Tests.EarlyData;

public sealed class ClientHelloDebouncerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_same_bytes_again_within_the_window_are_a_duplicate()
    {
        var debouncer = new ClientHelloDebouncer(TimeSpan.FromSeconds(10), _time);

        Assert.False(debouncer.IsDuplicate(Hello(1)));
        Assert.False(debouncer.IsDuplicate(Hello(2)));
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(debouncer.IsDuplicate(Hello(1)));
        Assert.True(debouncer.IsDuplicate(Hello(2)));
    }

    [Fact]
    public void After_the_window_the_same_bytes_are_new_again()
    {
        var debouncer = new ClientHelloDebouncer(TimeSpan.FromSeconds(10), _time);
        Assert.False(debouncer.IsDuplicate(Hello(1)));

        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.False(debouncer.IsDuplicate(Hello(1)));
        Assert.True(debouncer.IsDuplicate(Hello(1)));
    }

    [Fact]
    public void The_window_ends_exactly_when_it_says()
    {
        var window = TimeSpan.FromSeconds(10);
        var debouncer = new ClientHelloDebouncer(window, _time);
        Assert.False(debouncer.IsDuplicate(Hello(1)));

        _time.Advance(window);
        Assert.True(debouncer.IsDuplicate(Hello(1)));

        // Seen again, it is still remembered from its first sighting: one tick on, the window is over.
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(debouncer.IsDuplicate(Hello(1)));
    }

    [Fact]
    public void Memory_is_bounded_by_forgetting_the_oldest()
    {
        var debouncer = new ClientHelloDebouncer(TimeSpan.FromHours(1), _time);
        for (var i = 0; i <= ClientHelloDebouncer.Capacity; i++)
        {
            Assert.False(debouncer.IsDuplicate(Hello(i)));
        }

        // The first one was pushed out by the last; the newest are still remembered.
        Assert.False(debouncer.IsDuplicate(Hello(0)));
        Assert.True(debouncer.IsDuplicate(Hello(ClientHelloDebouncer.Capacity)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Under_concurrent_use_each_hello_is_new_exactly_once_and_every_copy_is_caught()
    {
        const int Threads = 8;
        const int Distinct = 800;
        const int Copies = 4;
        var debouncer = new ClientHelloDebouncer(TimeSpan.FromHours(1), _time);
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
                if (thread % (Threads / Copies) == 0 && !debouncer.IsDuplicate(hellos[which]))
                {
                    Interlocked.Increment(ref firstSightings[which]);
                }
                else if (thread % (Threads / Copies) != 0)
                {
                    // The other threads send unrelated fresh hellos meanwhile, contending for the same lock.
                    Assert.False(debouncer.IsDuplicate(Hello(Distinct + thread * Distinct + i)));
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
        const int PerThread = ClientHelloDebouncer.Capacity;
        var debouncer = new ClientHelloDebouncer(TimeSpan.FromHours(1), _time);
        using var start = new Barrier(Threads);

        var workers = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (var i = 0; i < PerThread; i++)
            {
                Assert.False(debouncer.IsDuplicate(Hello(thread * PerThread + i)));
            }
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        await Task.WhenAll(workers).WaitAsync(TestContext.Current.CancellationToken);

        // Eight times the capacity went in; the memory kept working: a hello recorded now is caught on its copy.
        Assert.False(debouncer.IsDuplicate(Hello(int.MaxValue)));
        Assert.True(debouncer.IsDuplicate(Hello(int.MaxValue)));
    }

    [Fact]
    public void An_attacker_who_sends_enough_fresh_hellos_within_the_window_evicts_a_recorded_one_and_its_replay_is_not_caught()
    {
        var victim = Hello(int.MaxValue);
        var attacker = 0;
        ClientHelloDebouncer Recorded(out int fresh, int count)
        {
            var debouncer = new ClientHelloDebouncer(TimeSpan.FromHours(1), _time);
            Assert.False(debouncer.IsDuplicate(victim));
            for (fresh = 0; fresh < count; fresh++)
            {
                Assert.False(debouncer.IsDuplicate(Hello(attacker++)));
            }

            return debouncer;
        }

        // One fresh hello fewer and the replay is still caught; the lookup makes room before it looks, so a full memory
        // has already forgotten its oldest when a copy of it arrives. Harmless: a replayed ClientHello makes the server
        // answer a handshake nobody completes, which is all debouncing saves; what is not replay-safe never reaches it.
        Assert.True(Recorded(out _, ClientHelloDebouncer.Capacity - 2).IsDuplicate(victim));
        Assert.False(Recorded(out _, ClientHelloDebouncer.Capacity - 1).IsDuplicate(victim));
    }

    private static byte[] Hello(int seed)
    {
        var bytes = new byte[200];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
