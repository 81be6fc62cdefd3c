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
}
