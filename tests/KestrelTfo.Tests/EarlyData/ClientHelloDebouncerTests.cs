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

    private static byte[] Hello(int seed)
    {
        var bytes = new byte[200];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
