using System.Security.Cryptography;
using KestrelTfo.Platform;
using KestrelTfo.Tls;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Internal;

/// <summary>
/// Rejects option values the transport cannot use, naming the setting as it appears in configuration,
/// so a bad value fails start-up instead of a listener.
/// </summary>
internal sealed class FastOpenTransportOptionsValidator : IValidateOptions<FastOpenTransportOptions>
{
    // Early data is buffered before the handshake completes: a bound that keeps one connection's share of memory small.
    private const int MaxTlsEarlyDataSize = 1024 * 1024;

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

        if (!Enum.IsDefined(options.EarlyDataPolicy))
        {
            Fail(ref failures, nameof(options.EarlyDataPolicy), options.EarlyDataPolicy, "must be Flag or Defer");
        }

        if (!Enum.IsDefined(options.UnsafeEarlyDataRequests))
        {
            Fail(ref failures, nameof(options.UnsafeEarlyDataRequests), options.UnsafeEarlyDataRequests, "must be RunAtOnce, WaitForHandshake or TooEarly");
        }

        foreach (var (port, policy) in options.EarlyDataPolicyByPort)
        {
            if (port is < 0 or > 65535 || !Enum.IsDefined(policy))
            {
                Fail(ref failures, $"{nameof(options.EarlyDataPolicyByPort)}:{port}", policy, "must name a port from 0 to 65535 and be Flag or Defer");
            }
        }

        if (options.FastOpenHandshakeTimeout <= TimeSpan.Zero)
        {
            Fail(ref failures, nameof(options.FastOpenHandshakeTimeout), options.FastOpenHandshakeTimeout, "must be positive");
        }

        if (options.MaxPendingHandshakesPerClient <= 0)
        {
            Fail(ref failures, nameof(options.MaxPendingHandshakesPerClient), options.MaxPendingHandshakesPerClient, "must be positive (null sets no limit)");
        }

        if (options.ClientHelloDebounceWindow <= TimeSpan.Zero)
        {
            Fail(ref failures, nameof(options.ClientHelloDebounceWindow), options.ClientHelloDebounceWindow, "must be positive (null turns it off)");
        }

        if (options.TlsMaxEarlyDataSize is < 1 or > MaxTlsEarlyDataSize)
        {
            Fail(ref failures, nameof(options.TlsMaxEarlyDataSize), options.TlsMaxEarlyDataSize, "must be from 1 to 1048576");
        }

        if (options.CreateBoundListenSocket is null)
        {
            Fail(ref failures, nameof(options.CreateBoundListenSocket), "must not be null (CreateDefaultBoundListenSocket is the default)");
        }

        ValidateKey(ref failures, nameof(options.CookieKey), options.CookieKey);
        ValidateKey(ref failures, nameof(options.BackupCookieKey), options.BackupCookieKey);
        if (string.IsNullOrWhiteSpace(options.CookieKey) && !string.IsNullOrWhiteSpace(options.BackupCookieKey))
        {
            Fail(ref failures, nameof(options.BackupCookieKey), "needs a CookieKey: the kernel takes the backup key only beside a primary one");
        }

        ValidateTicketKeys(ref failures, options.TicketKey, options.BackupTicketKey);
        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws what the options system throws for invalid options, for code that builds on options it was handed.</summary>
    /// <exception cref="OptionsValidationException">An option has a value the transport or the TLS layer cannot use.</exception>
    public static void ThrowIfInvalid(FastOpenTransportOptions options)
    {
        var validation = new FastOpenTransportOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(FastOpenTransportOptions), validation.Failures);
        }
    }

    private static void ValidateTicketKeys(ref List<string>? failures, string? primary, string? backup)
    {
        Span<byte> parsedPrimary = stackalloc byte[TlsTicketKey.Length];
        Span<byte> parsedBackup = stackalloc byte[TlsTicketKey.Length];
        var hasPrimary = !string.IsNullOrWhiteSpace(primary);
        var hasBackup = !string.IsNullOrWhiteSpace(backup);
        string? problem = null;
        if (hasPrimary && !TlsTicketKey.TryParse(primary, parsedPrimary, out problem))
        {
            Fail(ref failures, nameof(FastOpenTransportOptions.TicketKey), problem!);
            hasPrimary = false;
        }

        if (hasBackup && !TlsTicketKey.TryParse(backup, parsedBackup, out problem))
        {
            Fail(ref failures, nameof(FastOpenTransportOptions.BackupTicketKey), problem!);
            hasBackup = false;
        }

        if (string.IsNullOrWhiteSpace(primary) && !string.IsNullOrWhiteSpace(backup))
        {
            Fail(ref failures, nameof(FastOpenTransportOptions.BackupTicketKey), "needs a TicketKey: a backup key only decrypts tickets, and new tickets need a primary key to encrypt them");
        }

        // Parsed, so that the same key in hex and in base64 is caught too.
        if (hasPrimary && hasBackup && parsedPrimary.SequenceEqual(parsedBackup))
        {
            Fail(ref failures, nameof(FastOpenTransportOptions.BackupTicketKey), "is the same key as TicketKey: a rotation puts the new key in TicketKey and the old one here");
        }

        CryptographicOperations.ZeroMemory(parsedPrimary);
        CryptographicOperations.ZeroMemory(parsedBackup);
    }

    private static void ValidateKey(ref List<string>? failures, string setting, string? key)
    {
        Span<byte> parsed = stackalloc byte[FastOpenCookieKey.Length];
        if (!string.IsNullOrWhiteSpace(key) && !FastOpenCookieKey.TryParse(key, parsed, out var problem))
        {
            // The value is a secret, so the message describes it without showing it.
            Fail(ref failures, setting, problem!);
        }
    }

    private static void Fail(ref List<string>? failures, string setting, object? value, string rule) =>
        Fail(ref failures, setting, $"{rule}, but is {value}");

    private static void Fail(ref List<string>? failures, string setting, string problem) =>
        (failures ??= []).Add(
            $"{FastOpenTransportOptions.ConfigurationSectionName}:{setting} {problem} ({nameof(FastOpenTransportOptions)}.{setting}).");
}
