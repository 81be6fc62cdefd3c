using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using KestrelTfo.Client.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Client;

/// <summary>
/// Opens TCP Fast Open connections for <see cref="SocketsHttpHandler"/>: use <see cref="ConnectAsync(SocketsHttpConnectionContext, CancellationToken)"/>
/// as its <see cref="SocketsHttpHandler.ConnectCallback"/>, or call <c>UseFastOpen()</c> on the handler.
/// </summary>
/// <remarks>
/// <para>
/// The connect callback resolves the host and returns at once; the connection opens when its first bytes are
/// written, and those bytes decide how. A first write that is exactly one message safe to repeat goes in the SYN:
/// one whole TLS ClientHello, or one plaintext GET, HEAD or OPTIONS request head without a body, an Upgrade or an
/// Expect (see <see cref="FastOpenConnectOptions.SafePlaintextRequests"/>). Anything else, such as a plaintext POST or
/// two pipelined requests, connects normally first and is written after the handshake. The first connection to a
/// server only fetches a cookie; later ones carry their data in the SYN and save a round trip. The connector's
/// metrics are <see cref="FastOpenClientMetrics"/>.
/// </para>
/// <para>
/// Linux uses <c>TCP_FASTOPEN_CONNECT</c>; macOS and Windows use .NET's connect with a buffer (<c>connectx</c>,
/// <c>ConnectEx</c>). Where TCP Fast Open is unavailable, connections open normally and one warning says why.
/// One connector may serve many handlers; it is thread safe.
/// </para>
/// <para>
/// The streams it returns suit client-speaks-first protocols only, as HTTP and TLS are: a read before the first
/// write waits for that write, for ever if none comes, so a protocol whose server speaks first (SMTP, FTP) hangs.
/// </para>
/// </remarks>
public sealed class FastOpenConnector
{
    private readonly FastOpenDialer _dialer;
    private readonly TimeSpan? _connectTimeout;

    /// <summary>Creates a connector with default options and no logging.</summary>
    public FastOpenConnector()
        : this(new FastOpenConnectOptions())
    {
    }

    /// <summary>Creates a connector.</summary>
    /// <param name="options">The options; copied, so later changes to the object do not affect the connector.</param>
    /// <param name="loggerFactory">Where the connector logs (category <c>KestrelTfo.Client</c>); none when <see langword="null"/>.</param>
    /// <param name="meterFactory">
    /// Where the connector's meter comes from (<see cref="FastOpenClientMetrics"/>); when <see langword="null"/>, one meter
    /// the process's connectors share.
    /// </param>
    public FastOpenConnector(FastOpenConnectOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
        : this(options, loggerFactory, FastOpenClientSocket.PlatformMethod, meterFactory)
    {
    }

    /// <summary>Creates a connector with the given way of putting data in a SYN, and the given clock.</summary>
    /// <param name="options">The options; copied.</param>
    /// <param name="loggerFactory">Where the connector logs; none when null.</param>
    /// <param name="method">How this platform puts data in a SYN; tests choose another.</param>
    /// <param name="meterFactory">Where the connector's meter comes from; one shared meter when null.</param>
    /// <param name="time">The clock of the race's delay and the connect timeout: the app's under dependency injection, else the system's.</param>
    internal FastOpenConnector(
        FastOpenConnectOptions options, ILoggerFactory? loggerFactory, FastOpenConnectMethod method, IMeterFactory? meterFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.FallbackDelay is { } delay && delay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), delay, $"{nameof(FastOpenConnectOptions.FallbackDelay)} must be positive, or null to turn the race off.");
        }

        if (options.ConnectTimeout is { } timeout && timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), timeout, $"{nameof(FastOpenConnectOptions.ConnectTimeout)} must be positive or Timeout.InfiniteTimeSpan.");
        }

        if (options.TlsSessionCacheSize is < 1 or > FastOpenConnectOptions.MaxTlsSessionCacheSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), options.TlsSessionCacheSize, $"{nameof(FastOpenConnectOptions.TlsSessionCacheSize)} must be from 1 to {FastOpenConnectOptions.MaxTlsSessionCacheSize}.");
        }

        var snapshot = new FastOpenConnectOptions
        {
            SafePlaintextRequests = options.SafePlaintextRequests,
            FallbackDelay = options.FallbackDelay,
            ConnectTimeout = options.ConnectTimeout,
            CreateSocket = options.CreateSocket,
            TlsEarlyData = options.TlsEarlyData,
            TlsSessionCacheSize = options.TlsSessionCacheSize,
        };
        Options = snapshot;
        _connectTimeout = snapshot.ConnectTimeout;
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(FastOpenClientLog.Category);
        _dialer = new FastOpenDialer(snapshot, logger, method, FastOpenClientMeter.Create(meterFactory), time);
    }

    /// <summary>
    /// The connector of a registration: the named <see cref="FastOpenConnectOptions"/>, and the host's logging and
    /// meter factory.
    /// </summary>
    internal static FastOpenConnector FromServices(IServiceProvider services, string optionsName) => new(
        services.GetRequiredService<IOptionsMonitor<FastOpenConnectOptions>>().Get(optionsName),
        services.GetService<ILoggerFactory>(),
        FastOpenClientSocket.PlatformMethod,
        services.GetService<IMeterFactory>(),
        services.GetService<TimeProvider>());

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host and returns a stream whose first write
    /// opens the connection.
    /// </summary>
    /// <param name="context">The handler's connection context.</param>
    /// <param name="cancellationToken">Cancels the name resolution.</param>
    /// <returns>A stream that is not yet connected; it connects on its first write.</returns>
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ConnectAsync(context.DnsEndPoint, cancellationToken);
    }

    /// <summary>
    /// Resolves <paramref name="endPoint"/> and returns a stream whose first write opens the connection, trying the
    /// addresses in the order name resolution gave them.
    /// </summary>
    /// <remarks>
    /// For client-speaks-first protocols only: until the first write there is no connection, so a read before it
    /// waits for that write and has no timeout; with a protocol whose server speaks first (SMTP, FTP, SSH) it waits
    /// for ever. Only a failed connect moves on to the next address; once a connection is established, a failure to
    /// send the first write is an <see cref="IOException"/> and the bytes are not sent again elsewhere.
    /// </remarks>
    /// <param name="endPoint">The host (a name or an IP address literal) and port.</param>
    /// <param name="cancellationToken">Cancels the name resolution.</param>
    /// <returns>A stream that is not yet connected; it connects on its first write.</returns>
    [SuppressMessage("ApiDesign", "RS0027", Justification = "The overloads differ in their first parameter's type, so no call can be ambiguous; the other one has the signature of SocketsHttpHandler.ConnectCallback, whose token is required, and this one takes its token as Socket.ConnectAsync does.")]
    public ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, CancellationToken cancellationToken = default) =>
        ConnectAsync(endPoint, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Like the public overload, with the connect timeout of the handler the connector serves.</summary>
    internal async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, TimeSpan handlerConnectTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var addresses = await ResolveAsync(endPoint, cancellationToken).ConfigureAwait(false);
        return new FastOpenStream(
            async (firstWrite, connect) => new NetworkStream(await _dialer.ConnectAsync(addresses, endPoint.Port, firstWrite, connect).ConfigureAwait(false), ownsSocket: true),
            endPoint,
            ConnectTimeout(handlerConnectTimeout),
            _dialer.Time);
    }

    /// <summary>The options the connector was made with (a copy).</summary>
    internal FastOpenConnectOptions Options { get; }

    /// <summary>The dialer: how sockets are made and TCP Fast Open is asked for, and where that is logged and counted.</summary>
    internal FastOpenDialer Dialer => _dialer;

    /// <summary>The connector's own connect timeout, else the handler's.</summary>
    internal TimeSpan ConnectTimeout(TimeSpan handlerConnectTimeout) => _connectTimeout ?? handlerConnectTimeout;

    internal static async ValueTask<IPAddress[]> ResolveAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(endPoint.Host.AsSpan().Trim("[]"), out var address))
        {
            return [address];
        }

        var addresses = await Dns.GetHostAddressesAsync(endPoint.Host, endPoint.AddressFamily, cancellationToken).ConfigureAwait(false);
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }
}
