using System.Net;
using KestrelTfo.EarlyData;
using System.Diagnostics.Metrics;
using KestrelTfo.Internal;
using KestrelTfo.Metrics;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace KestrelTfo;

/// <summary>
/// A Kestrel transport for IP endpoints whose listeners accept TCP Fast Open. Endpoints of other kinds
/// (Unix domain sockets, named pipes, file handles) are left to Kestrel's own transports.
/// </summary>
/// <remarks>
/// Registered by <c>UseFastOpenTransport</c>. The kernel's support is checked once, on the first bind,
/// and a missing setting is logged once with the exact fix. When registered that way, cookie keys changed
/// by a configuration reload are applied to every live listener.
/// </remarks>
public sealed class FastOpenTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly FastOpenTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lazy<KernelSupport> _kernelSupport;
    private readonly List<FastOpenConnectionListener> _listeners = [];
    private readonly IOptionsFactory<FastOpenTransportOptions>? _reloadFactory;
    private readonly List<IDisposable> _reloadRegistrations = [];
    private readonly ClientHelloDebouncer? _debouncer;
    private readonly LinuxNetstat _netstat = new();
    private readonly FastOpenMeter _meter;
    private byte[]? _cookieKeys;

    /// <summary>
    /// Creates the transport factory.
    /// </summary>
    /// <param name="options">The transport options.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <exception cref="OptionsValidationException">An option has a value the transport cannot use.</exception>
    public FastOpenTransportFactory(IOptions<FastOpenTransportOptions> options, ILoggerFactory loggerFactory)
        : this(options, loggerFactory, meterFactory: null)
    {
    }

    private FastOpenTransportFactory(IOptions<FastOpenTransportOptions> options, ILoggerFactory loggerFactory, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);

        _options = options.Value;
        var validation = new FastOpenTransportOptionsValidator().Validate(Options.DefaultName, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(FastOpenTransportOptions), validation.Failures);
        }

        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("KestrelTfo.Transport");
        _kernelSupport = new Lazy<KernelSupport>(DetectKernelSupport);
        _cookieKeys = FastOpenCookieKey.ToSocketOption(_options.CookieKey, _options.BackupCookieKey);
        _debouncer = _options.ClientHelloDebounceWindow is { } window ? new ClientHelloDebouncer(window) : null;
        _meter = new FastOpenMeter(meterFactory, () => Listeners, _netstat);
    }

    /// <summary>
    /// The constructor <c>UseFastOpenTransport</c> uses: it also follows configuration reloads, to rotate cookie
    /// keys. It builds fresh options itself instead of using <c>IOptionsMonitor</c>, which throws on the reload
    /// thread when a reloaded value is invalid; here an invalid reload is logged and changes nothing.
    /// </summary>
    internal FastOpenTransportFactory(
        IOptions<FastOpenTransportOptions> options,
        IOptionsFactory<FastOpenTransportOptions> reloadFactory,
        IEnumerable<IOptionsChangeTokenSource<FastOpenTransportOptions>> reloadSources,
        ILoggerFactory loggerFactory,
        IMeterFactory? meterFactory)
        : this(options, loggerFactory, meterFactory)
    {
        _reloadFactory = reloadFactory;
        foreach (var source in reloadSources)
        {
            _reloadRegistrations.Add(ChangeToken.OnChange(source.GetChangeToken, OnOptionsReloaded));
        }
    }

    /// <summary>
    /// Returns <see langword="true"/> for an <see cref="IPEndPoint"/>, the only kind of endpoint this transport binds.
    /// </summary>
    /// <param name="endpoint">The endpoint Kestrel wants to bind.</param>
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    /// <summary>
    /// Binds a listening socket with TCP Fast Open to <paramref name="endpoint"/>.
    /// </summary>
    /// <param name="endpoint">The IP endpoint to bind; port 0 picks a free port, reported by the listener's <c>EndPoint</c>.</param>
    /// <param name="cancellationToken">Not used: binding completes synchronously.</param>
    /// <returns>The bound listener.</returns>
    /// <exception cref="NotSupportedException"><paramref name="endpoint"/> is not an <see cref="IPEndPoint"/>.</exception>
    /// <exception cref="AddressInUseException">The address is already in use.</exception>
    /// <exception cref="InvalidOperationException">
    /// <see cref="FastOpenTransportOptions.RequireFastOpen"/> is set and TCP Fast Open cannot be enabled.
    /// </exception>
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint is not IPEndPoint ipEndPoint)
        {
            throw new NotSupportedException(
                $"{nameof(FastOpenTransportFactory)} binds IP endpoints only, not {endpoint.GetType().Name} '{endpoint}'.");
        }

        var support = _kernelSupport.Value;
        if (!support.ServerEnabled && _options.RequireFastOpen)
        {
            throw new InvalidOperationException(RequiredMessage(support.ProblemAndFix));
        }

        var tryFastOpen = support.PlatformSupported;
        string? notTried = null;
        if (tryFastOpen && !FastOpenSocket.CanInspectConnections)
        {
            // Without per-connection inspection the guard cannot keep its promise: a policy that enforces gets no
            // early data at all, and Flag is told loudly that nothing will be flagged.
            var policy = _options.EarlyDataPolicyFor(ipEndPoint.Port);
            var os = System.Runtime.InteropServices.RuntimeInformation.OSDescription;
            if (policy == EarlyDataPolicy.Flag)
            {
                FastOpenLog.EarlyDataUninspected(_logger, os, ipEndPoint);
            }
            else
            {
                FastOpenLog.PolicyUnenforceable(_logger, os, policy, ipEndPoint);
                tryFastOpen = false;
                notTried = $"the {policy} early-data policy of {ipEndPoint} cannot be enforced on {os}";
            }
        }

        var listener = new FastOpenConnectionListener(ipEndPoint, _options, _loggerFactory, _debouncer, _meter, Forget);
        try
        {
            lock (_listeners)
            {
                // Under the lock, so that a reload cannot slip between reading the keys and tracking the listener.
                listener.Bind(tryFastOpen, _cookieKeys);
                _listeners.Add(listener);
            }
        }
        catch
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (!listener.FastOpenEnabled && _options.RequireFastOpen)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(RequiredMessage(notTried is not null
                ? $"{notTried}."
                : support.Explain($"the OS refused TCP Fast Open on {listener.EndPoint} ({listener.FastOpenError})")));
        }

        return listener;
    }

    /// <summary>
    /// Stops rotating keys on live listeners and ends the transport's metrics; the listeners themselves belong to Kestrel.
    /// </summary>
    public void Dispose()
    {
        foreach (var registration in _reloadRegistrations)
        {
            registration.Dispose();
        }

        _meter.Dispose();
        _netstat.Dispose();
    }

    /// <summary>The kernel's TCP Fast Open counters for the app's network namespace, when they can be read.</summary>
    internal bool TryReadKernelCounters(out TcpFastOpenCounters counters) => _netstat.TryRead(out counters);

    internal IReadOnlyList<FastOpenConnectionListener> Listeners
    {
        get
        {
            lock (_listeners)
            {
                return [.. _listeners];
            }
        }
    }

    private void Forget(FastOpenConnectionListener listener)
    {
        lock (_listeners)
        {
            _listeners.Remove(listener);
        }
    }

    private void OnOptionsReloaded()
    {
        FastOpenTransportOptions reloaded;
        byte[]? keys;
        try
        {
            reloaded = _reloadFactory!.Create(Options.DefaultName);
            keys = FastOpenCookieKey.ToSocketOption(reloaded.CookieKey, reloaded.BackupCookieKey);
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
        {
            FastOpenLog.CookieKeysReloadRejected(_logger, e.Message);
            return;
        }

        lock (_listeners)
        {
            if (keys is null)
            {
                if (_cookieKeys is not null)
                {
                    FastOpenLog.CookieKeysRemoved(_logger);
                }

                return;
            }

            if (_cookieKeys is not null && keys.AsSpan().SequenceEqual(_cookieKeys))
            {
                return;
            }

            var applied = _listeners.Count(listener => listener.SetCookieKeys(keys));
            if (applied == 0 && _listeners.Count > 0)
            {
                // Every listener kept its old keys (each said why), so those stay the keys in force: a later reload
                // of the same keys tries again instead of being skipped as unchanged.
                return;
            }

            _cookieKeys = keys;
            FastOpenLog.CookieKeysReloaded(_logger, keys.Length / FastOpenCookieKey.Length, applied, _listeners.Count);
        }
    }

    private static string RequiredMessage(string problemAndFix) =>
        $"TCP Fast Open is required (RequireFastOpen) but is off for servers: {problemAndFix}";

    private KernelSupport DetectKernelSupport()
    {
        var support = KernelSupport.Detect();

        if (!support.ServerEnabled && support.LinuxValue is int oldValue && _options.TryEnableKernelSupport)
        {
            var newValue = oldValue | LinuxFastOpenSysctl.ServerBit;
            if (LinuxFastOpenSysctl.TryWrite(newValue, out var error))
            {
                support = KernelSupport.Detect();
                FastOpenLog.KernelSupportEnabled(_logger, LinuxFastOpenSysctl.Name, oldValue, newValue);
            }
            else
            {
                FastOpenLog.KernelSupportEnableFailed(_logger, LinuxFastOpenSysctl.Name, newValue, error);
            }
        }

        if (_cookieKeys is not null && !FastOpenSocket.SupportsCookieKeys)
        {
            FastOpenLog.CookieKeysUnsupported(_logger, System.Runtime.InteropServices.RuntimeInformation.OSDescription);
        }

        if (support.ServerEnabled)
        {
            FastOpenLog.KernelSupportFound(_logger, support.Setting);
        }
        else if (!_options.RequireFastOpen)
        {
            // With RequireFastOpen the same text becomes the start-up exception instead.
            FastOpenLog.KernelSupportMissing(_logger, support.Problem!, support.Fix ?? "not possible on this OS");
        }

        return support;
    }
}
