using Microsoft.Extensions.Options;

namespace KestrelTfo.Internal;

/// <summary>
/// Rejects option values the transport cannot use, naming the setting as it appears in configuration,
/// so a bad value fails start-up instead of a listener.
/// </summary>
internal sealed class FastOpenTransportOptionsValidator : IValidateOptions<FastOpenTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, FastOpenTransportOptions options)
    {
        List<string>? failures = null;

        if (options.QueueLength <= 0)
        {
            Fail(ref failures, nameof(options.QueueLength), options.QueueLength, "must be greater than 0");
        }

        if (options.Backlog <= 0)
        {
            Fail(ref failures, nameof(options.Backlog), options.Backlog, "must be greater than 0");
        }

        if (options.IOQueueCount < 0)
        {
            Fail(ref failures, nameof(options.IOQueueCount), options.IOQueueCount, "must not be negative");
        }

        if (options.MaxReadBufferSize < 0)
        {
            Fail(ref failures, nameof(options.MaxReadBufferSize), options.MaxReadBufferSize, "must not be negative (null means no limit)");
        }

        if (options.MaxWriteBufferSize < 0)
        {
            Fail(ref failures, nameof(options.MaxWriteBufferSize), options.MaxWriteBufferSize, "must not be negative (null means no limit)");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Fail(ref List<string>? failures, string setting, object? value, string rule) =>
        (failures ??= []).Add(
            $"{FastOpenTransportOptions.ConfigurationSectionName}:{setting} {rule}, but is {value} " +
            $"({nameof(FastOpenTransportOptions)}.{setting}).");
}
