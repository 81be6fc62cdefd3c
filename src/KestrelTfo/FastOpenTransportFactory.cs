using System.Diagnostics.Metrics;
using System.Net;
using KestrelTfo.EarlyData;
using KestrelTfo.Internal;
using KestrelTfo.Metrics;
using KestrelTfo.Platform;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo;

/// <summary>
/// A Kestrel transport for IP endpoints whose listeners accept TCP Fast Open. Endpoints of other kinds
/// (Unix domain sockets, named pipes, file handles) are left to Kestrel's own transports.
/// </summary>
/// <remarks>
/// Registered by <c>UseFastOpenTransport</c>. The kernel's support is checked once, on the first bind, and a missing
/// setting is logged once with the exact fix. When registered that way, cookie keys changed by a configuration reload
/// are applied to every live listener and every listener bound later, and TLS ticket keys to every endpoint on the TLS
/// layer.
/// </remarks>
public sealed class FastOpenTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly FastOpenTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lazy<KernelSupport> _kernelSupport;
    private readonly ReplayRecord? _debouncer;
    private readonly HandshakeWatcher _watcher;
    private readonly LinuxNetstat _netstat = new();
    private readonly FastOpenMeter _meter;
    private readonly KeyReloader? _reloader;
    private readonly bool _canInspectConnections;
    private readonly TimeProvider _time;

    /// <summary>Creates the transport factory.</summary>
    /// <param name="options">The transport options.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <exception cref="OptionsValidationException">An option has a value the transport cannot use.</exception>
    public FastOpenTransportFactory(IOptions<FastOpenTransportOptions> options, ILoggerFactory loggerFactory)
        : this(options, loggerFactory, reload: null, meterFactory: null, TimeProvider.System)
    {
    }

    /// <summary>The constructor <c>UseFastOpenTransport</c> uses, which also follows configuration reloads.</summary>
    /// <param name="options">The transport options.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="reload">Where reloaded options come from, to rotate cookie and ticket keys; null to follow no reloads.</param>
    /// <param name="meterFactory">The host's meter factory, or null for a meter of the transport's own.</param>
    /// <param name="time">The clock of the debounce window, the handshake bound and the queue-full warning.</param>
    /// <param name="canInspectConnections">Whether this platform tells which connections carried data in their SYN; tests pretend otherwise.</param>
    /// <param name="ticketKeys">The TLS layer's ticket keys, which a reload rotates too; null when nothing reloads them.</param>
    internal FastOpenTransportFactory(
        IOptions<FastOpenTransportOptions> options,
        ILoggerFactory loggerFactory,
        (IOptionsFactory<FastOpenTransportOptions> Factory, IEnumerable<IOptionsChangeTokenSource<FastOpenTransportOptions>> Sources)? reload,
        IMeterFactory? meterFactory,
        TimeProvider time,
        bool? canInspectConnections = null,
        TicketKeyRing? ticketKeys = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        FastOpenTransportOptionsValidator.ThrowIfInvalid(_options);

        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger(FastOpenLog.Category);
        _canInspectConnections = canInspectConnections ?? FastOpenListenSocket.CanInspectConnections;
        _kernelSupport = new Lazy<KernelSupport>(() => KernelSupportCheck.Run(_options, _logger));
        _debouncer = _options.ClientHelloDebounceWindow is { } window ? new ReplayRecord(window, ReplayRecord.DebouncerCapacity, ReplayRecordFull.ForgetOldest, time) : null;
        _time = time;
        _watcher = new HandshakeWatcher(_options.FastOpenHandshakeTimeout, time);
        Listeners = new FastOpenListeners(FastOpenCookieKey.ToSocketOption(_options.CookieKey, _options.BackupCookieKey), _logger);
        _meter = new FastOpenMeter(meterFactory, Listeners.Snapshot, _netstat);
        if (reload is { } source)
        {
            _reloader = new KeyReloader(source.Factory, source.Sources, Listeners, ticketKeys, _logger);
        }

#pragma warning disable CS0618 // Reject is obsolete: it is read here to say so.
        if (_options.EarlyDataPolicy == EarlyDataPolicy.Reject || _options.EarlyDataPolicyByPort.Values.Contains(EarlyDataPolicy.Reject))
#pragma warning restore CS0618
        {
            FastOpenLog.RejectMeansDefer(_logger);
        }
    }

    /// <summary>The transport's live listeners, and the cookie keys they share.</summary>
    internal FastOpenListeners Listeners { get; }

    /// <summary>
    /// Returns <see langword="true"/> for an <see cref="IPEndPoint"/>, the only kind of endpoint this transport binds.
    /// </summary>
    /// <param name="endpoint">The endpoint Kestrel wants to bind.</param>
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    /// <summary>Binds a listening socket with TCP Fast Open to <paramref name="endpoint"/>.</summary>
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
            throw FastOpenListenSocketSetup.RequiredButOff(support.ProblemAndFix);
        }

        var guard = new EarlyDataGuard(_options.EarlyDataPolicyFor(ipEndPoint.Port), _canInspectConnections, _options.AllowUnguardedEarlyData,
            _options.KernelEarlyDataFilter, _debouncer, _meter, _logger);
        var pending = new PendingHandshakes(_options, guard, _watcher, _meter, _logger, _time);
        var listener = new FastOpenConnectionListener(ipEndPoint, _options, guard, pending, support, _loggerFactory, Listeners.Remove);
        try
        {
            Listeners.Bind(listener);
        }
        catch
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return listener;
    }

    /// <summary>
    /// Stops rotating keys, ends the deferrals still waiting and the transport's metrics; the listeners themselves
    /// belong to Kestrel.
    /// </summary>
    public void Dispose()
    {
        _reloader?.Dispose();
        _watcher.Dispose();
        _meter.Dispose();
        _netstat.Dispose();
    }

    /// <summary>The kernel's TCP Fast Open counters for the app's network namespace, when they can be read.</summary>
    internal bool TryReadKernelCounters(out TcpFastOpenCounters counters) => _netstat.TryRead(out counters);
}
