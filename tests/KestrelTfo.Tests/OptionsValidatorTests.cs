using KestrelTfo.Internal;

namespace KestrelTfo.Tests;

public sealed class OptionsValidatorTests
{
    private readonly FastOpenTransportOptionsValidator _validator = new();

    [Fact]
    public void Defaults_are_valid_and_match_Kestrel_socket_transport()
    {
        var options = new FastOpenTransportOptions();
        var kestrel = new Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions();

        Assert.True(_validator.Validate(null, options).Succeeded);
        Assert.Equal(256, options.QueueLength);
        Assert.False(options.RequireFastOpen);
        Assert.False(options.TryEnableKernelSupport);
        Assert.Equal(kestrel.Backlog, options.Backlog);
        Assert.Equal(kestrel.NoDelay, options.NoDelay);
        Assert.Equal(kestrel.IOQueueCount, options.IOQueueCount);
        Assert.Equal(kestrel.WaitForDataBeforeAllocatingBuffer, options.WaitForDataBeforeAllocatingBuffer);
        Assert.Equal(kestrel.MaxReadBufferSize, options.MaxReadBufferSize);
        Assert.Equal(kestrel.MaxWriteBufferSize, options.MaxWriteBufferSize);
        Assert.Equal(kestrel.UnsafePreferInlineScheduling, options.UnsafePreferInlineScheduling);
    }

    [Theory]
    [InlineData(nameof(FastOpenTransportOptions.QueueLength))]
    [InlineData(nameof(FastOpenTransportOptions.Backlog))]
    [InlineData(nameof(FastOpenTransportOptions.IOQueueCount))]
    [InlineData(nameof(FastOpenTransportOptions.MaxReadBufferSize))]
    [InlineData(nameof(FastOpenTransportOptions.MaxWriteBufferSize))]
    public void Negative_value_fails_naming_the_configuration_key(string setting)
    {
        var options = new FastOpenTransportOptions();
        var property = typeof(FastOpenTransportOptions).GetProperty(setting)!;
        property.SetValue(options, property.PropertyType == typeof(int) ? -1 : (object)-1L);

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"Kestrel:FastOpen:{setting} ", failure, StringComparison.Ordinal);
        Assert.Contains("but is -1", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_per_client_limit_below_one_fails_and_null_sets_none(int limit)
    {
        var failure = Assert.Single(_validator.Validate(null, new FastOpenTransportOptions { MaxPendingHandshakesPerClient = limit }).Failures!);

        Assert.StartsWith("Kestrel:FastOpen:MaxPendingHandshakesPerClient must be positive (null sets no limit)", failure, StringComparison.Ordinal);
        Assert.True(_validator.Validate(null, new FastOpenTransportOptions { MaxPendingHandshakesPerClient = null }).Succeeded);
    }

    [Fact]
    public void The_handshake_bound_defaults_to_10_seconds_and_32_places_per_client_and_its_former_name_still_sets_it()
    {
        var options = new FastOpenTransportOptions();
        Assert.Equal(TimeSpan.FromSeconds(10), options.FastOpenHandshakeTimeout);
        Assert.Equal(32, options.MaxPendingHandshakesPerClient);

#pragma warning disable CS0618 // The obsolete name is what is tested.
        options.EarlyDataDeferTimeout = TimeSpan.FromSeconds(3);
#pragma warning restore CS0618
        Assert.Equal(TimeSpan.FromSeconds(3), options.FastOpenHandshakeTimeout);
    }

    [Fact]
    public void Zero_queue_length_and_backlog_fail_together()
    {
        var result = _validator.Validate(null, new FastOpenTransportOptions { QueueLength = 0, Backlog = 0 });

        Assert.Equal(2, result.Failures!.Count());
    }

    [Fact]
    public void Null_buffer_limits_mean_no_limit_and_are_valid()
    {
        var options = new FastOpenTransportOptions { MaxReadBufferSize = null, MaxWriteBufferSize = null, IOQueueCount = 0 };

        Assert.True(_validator.Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(nameof(FastOpenTransportOptions.FastOpenHandshakeTimeout), "00:00:00")]
    [InlineData(nameof(FastOpenTransportOptions.FastOpenHandshakeTimeout), "-00:00:01")]
    [InlineData(nameof(FastOpenTransportOptions.ClientHelloDebounceWindow), "00:00:00")]
    [InlineData(nameof(FastOpenTransportOptions.ClientHelloDebounceWindow), "-00:00:01")]
    public void Non_positive_time_spans_fail_naming_the_key_and_the_value(string setting, string value)
    {
        var options = new FastOpenTransportOptions();
        typeof(FastOpenTransportOptions).GetProperty(setting)!.SetValue(options, TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        var failure = Assert.Single(_validator.Validate(null, options).Failures!);

        Assert.StartsWith($"Kestrel:FastOpen:{setting} must be positive", failure, StringComparison.Ordinal);
        Assert.Contains($"but is {value}", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_that_is_not_one_fails_naming_the_choices()
    {
        var failure = Assert.Single(_validator.Validate(null, new FastOpenTransportOptions { EarlyDataPolicy = (EarlyDataPolicy)7 }).Failures!);

        Assert.Equal("Kestrel:FastOpen:EarlyDataPolicy must be Flag or Defer, but is 7 (FastOpenTransportOptions.EarlyDataPolicy).", failure);
    }

    [Theory]
    [InlineData(-1, EarlyDataPolicy.Defer)]
    [InlineData(65536, EarlyDataPolicy.Defer)]
    [InlineData(8080, (EarlyDataPolicy)9)]
    public void A_bad_port_or_policy_in_EarlyDataPolicyByPort_fails_naming_the_port(int port, EarlyDataPolicy policy)
    {
        var options = new FastOpenTransportOptions();
        options.EarlyDataPolicyByPort[port] = policy;

        var failure = Assert.Single(_validator.Validate(null, options).Failures!);

        Assert.StartsWith($"Kestrel:FastOpen:EarlyDataPolicyByPort:{port} must name a port from 0 to 65535 and be Flag or Defer", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_obsolete_Reject_policy_is_still_valid_so_existing_configuration_starts()
    {
#pragma warning disable CS0618 // Obsolete on purpose: configuration written for earlier versions names it.
        var options = new FastOpenTransportOptions { EarlyDataPolicy = EarlyDataPolicy.Reject };
#pragma warning restore CS0618

        Assert.True(_validator.Validate(null, options).Succeeded);
    }

    [Fact]
    public void A_null_listen_socket_factory_fails()
    {
        var failure = Assert.Single(_validator.Validate(null, new FastOpenTransportOptions { CreateBoundListenSocket = null! }).Failures!);

        Assert.StartsWith("Kestrel:FastOpen:CreateBoundListenSocket must not be null", failure, StringComparison.Ordinal);
    }
}
