using KestrelTfo.Platform;
using KestrelTfo.Tls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace KestrelTfo.Internal;

/// <summary>
/// Follows configuration reloads of the transport's options and hands changed keys to those that use them, so keys
/// rotate without a restart: cookie keys to the transport's listeners, TLS ticket keys to the TLS layer's endpoints
/// (either may be absent: the TLS layer runs without the transport, and the transport without it). It builds fresh
/// options itself instead of using <c>IOptionsMonitor</c>, which throws on the reload thread when a reloaded value is
/// invalid: here an invalid reload is logged and changes no key of either kind, and nothing that goes wrong escapes into
/// the configuration system.
/// </summary>
internal sealed class KeyReloader : IDisposable
{
    private readonly IOptionsFactory<FastOpenTransportOptions> _optionsFactory;
    private readonly FastOpenListeners? _listeners;
    private readonly TicketKeyRing? _ticketKeys;
    private readonly ILogger _logger;
    private readonly List<IDisposable> _registrations = [];

    public KeyReloader(
        IOptionsFactory<FastOpenTransportOptions> optionsFactory,
        IEnumerable<IOptionsChangeTokenSource<FastOpenTransportOptions>> sources,
        FastOpenListeners? listeners,
        TicketKeyRing? ticketKeys,
        ILogger logger)
    {
        _optionsFactory = optionsFactory;
        _listeners = listeners;
        _ticketKeys = ticketKeys;
        _logger = logger;
        foreach (var source in sources)
        {
            _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, Reload));
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    internal void Reload()
    {
        try
        {
            FastOpenTransportOptions reloaded;
            try
            {
                reloaded = _optionsFactory.Create(Options.DefaultName);

                // Again, for an app on the TLS layer alone, whose options have no validator registered.
                FastOpenTransportOptionsValidator.ThrowIfInvalid(reloaded);
            }
            catch (OptionsValidationException e)
            {
                FastOpenLog.CookieKeysReloadRejected(_logger, e.Message);
                return;
            }

            _listeners?.UpdateCookieKeys(FastOpenCookieKey.ToSocketOption(reloaded.CookieKey, reloaded.BackupCookieKey));
            _ticketKeys?.Update(reloaded.TicketKey, reloaded.BackupTicketKey);
        }
        catch (Exception e)
        {
            // A configuration provider, a binder or a listener that throws: the reload thread is not ours to break.
            FastOpenLog.CookieKeysReloadFailed(_logger, e);
        }
    }
}
