using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using KestrelTfo.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Tls;

/// <summary>
/// The configured TLS ticket keys in force for every endpoint of an app on the TLS layer (<c>TicketKey</c>,
/// <c>BackupTicketKey</c>), swapped at once when a configuration reload changes them. Null keys leave each endpoint on a
/// random key of its own.
/// </summary>
/// <remarks>
/// The endpoints read the keys here on every ticket, rather than this holding a list of endpoints to push keys to: a swap
/// is one exchange, and an endpoint that Kestrel drops (a reloaded endpoint configuration) is collected without having to
/// say so.
/// </remarks>
internal sealed class TicketKeyRing : IDisposable
{
    // The app's ring, for an app on the TLS layer without UseFastOpenTransport (which registers one): shared by its
    // endpoints, and built from its options once.
    private static readonly ConditionalWeakTable<IServiceProvider, TicketKeyRing> s_unregistered = new();

    private readonly ILogger _logger;
    private readonly Lock _updates = new();
    private OpenSslTicketKeys? _configured;

    /// <summary>The ring of keys that <paramref name="options"/> configure, which the caller has validated.</summary>
    public TicketKeyRing(FastOpenTransportOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = loggerFactory.CreateLogger(OpenSslTlsLog.Category);
        _configured = Load(options.TicketKey, options.BackupTicketKey, out var weaknesses);
        Warn(weaknesses);
    }

    /// <summary>The configured keys in force, the primary first; null when none are configured.</summary>
    public OpenSslTicketKeys? Configured => Volatile.Read(ref _configured);

    /// <summary>
    /// The app's ring: the one <c>UseFastOpenTransport</c> registers, which the transport's reloads rotate; otherwise one
    /// built once from the app's <see cref="FastOpenTransportOptions"/>, validated here, which follows the reloads of the
    /// configuration those options are bound to (if any) until the app stops.
    /// </summary>
    /// <exception cref="OptionsValidationException">A ticket key (or another transport option) is invalid.</exception>
    public static TicketKeyRing For(IServiceProvider services, ILoggerFactory loggerFactory) =>
        services.GetService<TicketKeyRing>() ?? s_unregistered.GetValue(services, s =>
        {
            var options = s.GetService<IOptions<FastOpenTransportOptions>>()?.Value ?? new FastOpenTransportOptions();
            FastOpenTransportOptionsValidator.ThrowIfInvalid(options);
            var ring = new TicketKeyRing(options, loggerFactory);
            if (s.GetService<IOptionsFactory<FastOpenTransportOptions>>() is { } factory)
            {
                var reloader = new KeyReloader(factory, s.GetServices<IOptionsChangeTokenSource<FastOpenTransportOptions>>(), listeners: null, ring,
                    loggerFactory.CreateLogger(FastOpenLog.Category));
                s.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(reloader.Dispose);
            }

            return ring;
        });

    /// <summary>Makes the keys of reloaded, validated options the keys in force; keys that did not change stay as they are.</summary>
    public void Update(string? primary, string? backup)
    {
        lock (_updates)
        {
            var next = Load(primary, backup, out var weaknesses);
            var current = _configured;
            if (next is null)
            {
                if (current is not null)
                {
                    Swap(null);
                    OpenSslTlsLog.TicketKeysRemoved(_logger);
                }

                return;
            }

            if (current is not null && current.SameKeysAs(next))
            {
                next.Dispose();
                return;
            }

            Swap(next);
            Warn(weaknesses);
            OpenSslTlsLog.TicketKeysReloaded(_logger, next.Count);
        }
    }

    public void Dispose() => Swap(null);

    // The old keys are released once the last callback using them is done (their reference count), then zeroed.
    private void Swap(OpenSslTicketKeys? next) => Interlocked.Exchange(ref _configured, next)?.Dispose();

    // Weak keys are told only where they come into force, so a reload of something else does not repeat the warning.
    private static OpenSslTicketKeys? Load(string? primary, string? backup, out List<string> weaknesses)
    {
        weaknesses = [];
        if (string.IsNullOrWhiteSpace(primary))
        {
            return null;
        }

        byte[][] secrets = string.IsNullOrWhiteSpace(backup) ? [Parse(primary)] : [Parse(primary), Parse(backup)];
        try
        {
            string[] settings = [nameof(FastOpenTransportOptions.TicketKey), nameof(FastOpenTransportOptions.BackupTicketKey)];
            for (var i = 0; i < secrets.Length; i++)
            {
                if (TlsTicketKey.Weakness(settings[i], secrets[i]) is { } problem)
                {
                    weaknesses.Add(problem);
                }
            }

            return OpenSslTicketKeys.FromSecrets(secrets);
        }
        finally
        {
            foreach (var secret in secrets)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }

    private static byte[] Parse(string text)
    {
        var secret = new byte[TlsTicketKey.Length];
        return TlsTicketKey.TryParse(text, secret, out _) ? secret : throw new FormatException("A TLS ticket key does not parse.");
    }

    // Valid keys that OpenSSL takes, so nothing else would tell the operator; they are used all the same.
    private void Warn(List<string> weaknesses)
    {
        foreach (var problem in weaknesses)
        {
            OpenSslTlsLog.TicketKeysWeak(_logger, problem);
        }
    }
}
