using System.Net;
using KestrelTfo.Internal;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo;

/// <summary>
/// A Kestrel transport for IP endpoints whose listeners accept TCP Fast Open. Endpoints of other kinds
/// (Unix domain sockets, named pipes, file handles) are left to Kestrel's own transports.
/// </summary>
/// <remarks>
/// Registered by <c>UseFastOpenTransport</c>. The kernel's support is checked once, on the first bind,
/// and a missing setting is logged once with the exact fix.
/// </remarks>
public sealed class FastOpenTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly FastOpenTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lazy<KernelSupport> _kernelSupport;

    /// <summary>
    /// Creates the transport factory.
    /// </summary>
    /// <param name="options">The transport options.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    public FastOpenTransportFactory(IOptions<FastOpenTransportOptions> options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);

        _options = options.Value;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("KestrelTfo.Transport");
        _kernelSupport = new Lazy<KernelSupport>(DetectKernelSupport);
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
            throw new InvalidOperationException(RequiredMessage(support.Problem, support.Fix));
        }

        var listener = new FastOpenConnectionListener(ipEndPoint, _options, _loggerFactory);
        try
        {
            listener.Bind(tryFastOpen: support.PlatformSupported);
        }
        catch
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (!listener.FastOpenEnabled && _options.RequireFastOpen)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(RequiredMessage(
                $"the OS refused TCP Fast Open on {listener.EndPoint} ({listener.FastOpenError})", support.Fix));
        }

        return listener;
    }

    private static string RequiredMessage(string? problem, string? fix) =>
        $"TCP Fast Open is required (RequireFastOpen) but is off for servers: {problem}." +
        (fix is null ? string.Empty : $" To enable it: {fix}.");

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
