using System.Net;
using KestrelTfo.Internal;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.Tests.Internal;

public sealed class HandshakeSharesTests
{
    private readonly FakeTimeProvider _time = new();

    [Theory]
    [InlineData("198.18.0.1", "::ffff:198.18.0.1")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff")]
    public void Both_forms_of_an_IPv4_address_and_every_address_of_an_IPv6_64_are_one_client(string one, string other) =>
        Assert.Equal(HandshakeShares.ClientOf(IPAddress.Parse(one)), HandshakeShares.ClientOf(IPAddress.Parse(other)));

    [Theory]
    [InlineData("198.18.0.1", "198.18.0.2")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1")]
    [InlineData("::", "0.0.0.0")]
    [InlineData("::1", "0.0.0.1")]
    [InlineData("::ffff:0:1", "2001:db8::1")]
    public void Other_addresses_and_other_64s_are_other_clients(string one, string other) =>
        Assert.NotEqual(HandshakeShares.ClientOf(IPAddress.Parse(one)), HandshakeShares.ClientOf(IPAddress.Parse(other)));

    [Fact]
    public void A_client_gets_its_limit_and_no_more_while_others_still_get_theirs()
    {
        var shares = new HandshakeShares(perClientLimit: 2, _time);
        var a = HandshakeShares.ClientOf(IPAddress.Parse("198.18.0.1"));
        var b = HandshakeShares.ClientOf(IPAddress.Parse("198.18.0.2"));

        Assert.True(shares.TryAdd(a, out _));
        Assert.True(shares.TryAdd(a, out _));
        Assert.False(shares.TryAdd(a, out var total));
        Assert.Equal(2, total);
        Assert.True(shares.TryAdd(b, out total));
        Assert.Equal(3, total);

        shares.Remove(a);
        Assert.True(shares.TryAdd(a, out _));
        Assert.Equal(3, shares.Count);
    }

    [Fact]
    public void Without_a_limit_only_the_total_is_counted()
    {
        var shares = new HandshakeShares(perClientLimit: null, _time);
        var a = HandshakeShares.ClientOf(IPAddress.Parse("198.18.0.1"));
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(shares.TryAdd(a, out _));
        }

        Assert.Equal(1000, shares.Count);
    }

    [Fact]
    public void A_place_its_client_reset_is_kept_for_as_long_as_the_kernel_keeps_it()
    {
        var shares = new HandshakeShares(perClientLimit: 1, _time);
        var a = HandshakeShares.ClientOf(IPAddress.Parse("198.18.0.1"));
        Assert.True(shares.TryAdd(a, out _));

        shares.RemoveAfterResetHold(a);
        _time.Advance(HandshakeShares.ResetHold - TimeSpan.FromMilliseconds(1));
        Assert.False(shares.TryAdd(a, out _));
        Assert.Equal(1, shares.Count);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, shares.Count);
        Assert.True(shares.TryAdd(a, out _));
    }

    [Fact]
    public void Removing_a_client_that_holds_nothing_changes_nothing()
    {
        var shares = new HandshakeShares(perClientLimit: 1, _time);
        shares.Remove(HandshakeShares.ClientOf(IPAddress.Loopback));
        Assert.Equal(0, shares.Count);
    }
}
