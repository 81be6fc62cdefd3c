using KestrelTfo.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Tests.Tls;

/// <summary>The configured ticket keys in force: where an app's come from, and how a swap treats keys still in use.</summary>
public sealed class TicketKeyRingTests
{
    [Fact]
    public void Keys_swapped_out_under_a_callback_stay_intact_until_it_is_done_and_are_released_then()
    {
        using var ring = new TicketKeyRing(new FastOpenTransportOptions { TicketKey = TestKeys.TicketA }, NullLoggerFactory.Instance);
        using var expected = OpenSslTicketKeys.FromSecrets(Convert.FromHexString(TestKeys.TicketA));
        var inUse = ring.Configured!;
        var added = false;
        inUse.DangerousAddRef(ref added);

        ring.Update(TestKeys.TicketB, TestKeys.TicketA);
        var intactWhileHeld = inUse.Name(0).SequenceEqual(expected.Name(0)) && !inUse.IsClosed;
        inUse.DangerousRelease();

        Assert.True(added);
        Assert.True(intactWhileHeld);
        Assert.True(inUse.IsClosed);
        Assert.Equal(1, ring.Configured!.Find(expected.Name(0)));
    }

    [Fact]
    public void A_reload_that_changes_nothing_keeps_the_same_keys()
    {
        using var ring = new TicketKeyRing(new FastOpenTransportOptions { TicketKey = TestKeys.TicketA }, NullLoggerFactory.Instance);
        var before = ring.Configured;

        ring.Update(" " + TestKeys.TicketA.ToUpperInvariant(), "");

        Assert.Same(before, ring.Configured);
    }

    [Fact]
    public void Without_UseFastOpenTransport_the_ring_comes_from_the_apps_options_once_and_is_validated()
    {
        using var configured = new ServiceCollection().Configure<FastOpenTransportOptions>(o => o.TicketKey = TestKeys.TicketA).BuildServiceProvider();
        using var invalid = new ServiceCollection().Configure<FastOpenTransportOptions>(o => o.BackupTicketKey = TestKeys.TicketB).BuildServiceProvider();
        using var none = new ServiceCollection().BuildServiceProvider();

        var ring = TicketKeyRing.For(configured, NullLoggerFactory.Instance);

        Assert.Same(ring, TicketKeyRing.For(configured, NullLoggerFactory.Instance));
        Assert.Equal(1, ring.Configured?.Count);
        Assert.Null(TicketKeyRing.For(none, NullLoggerFactory.Instance).Configured);
        var error = Assert.Throws<OptionsValidationException>(() => TicketKeyRing.For(invalid, NullLoggerFactory.Instance));
        Assert.Contains("Kestrel:FastOpen:BackupTicketKey needs a TicketKey", error.Message, StringComparison.Ordinal);
    }
}
