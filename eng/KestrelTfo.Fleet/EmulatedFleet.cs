using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using KestrelTfo.Fleet.Internal;

namespace KestrelTfo.Fleet;

/// <summary>
/// A fleet of app instances behind one service address, on one machine: each instance in a network namespace of its
/// own, a router namespace that balances the service address over them (<see cref="FleetBalancer"/>), and a client
/// namespace in front, joined by veth pairs, with addresses from 198.18.0.0/15 only. With
/// <see cref="FleetOptions.HttpsPort"/> each instance also serves HTTPS with TLS 1.3 early data. Disposing it removes
/// every namespace, link, nftables table, process and file it made, also after a failure; it never touches a name it did
/// not make.
/// </summary>
/// <remarks>
/// Needs Linux, root, iproute2's <c>ip</c> and, for the DNAT balancers, <c>nft</c>: see <see cref="UnavailableReason"/>.
/// The namespaces are named (<c>/run/netns</c> is shared by the whole machine), so their names carry
/// <see cref="FleetOptions.Name"/>, random by default.
/// </remarks>
public sealed class EmulatedFleet : IAsyncDisposable
{
    private const string RouterLink = RouterConfiguration.RouterLink;
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(10);

    private readonly FleetOptions _options;
    private readonly string _directory;
    private readonly List<FleetNamespace> _namespaces = [];
    private readonly List<FleetInstance> _instances = [];
    private readonly SortedSet<int> _inService = [];
    private FleetNamespace? _client;
    private FleetNamespace? _router;

    private EmulatedFleet(FleetOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.InstanceCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.InstanceCount, FleetAddresses.MaxInstances);
        _options = options;
        _directory = Path.Combine(Path.GetTempPath(), options.Name);
    }

    /// <summary>Gets why a fleet cannot be built here, or null when it can.</summary>
    public static string? UnavailableReason
    {
        get
        {
            if (!OperatingSystem.IsLinux())
            {
                return "a fleet needs Linux network namespaces";
            }

            if (!Environment.IsPrivilegedProcess)
            {
                return "a fleet needs root, for network namespaces, links, routes and nftables";
            }

            var missing = new[] { ("ip", "iproute2"), ("nft", "nftables"), ("curl", "curl") }.Where(tool => !OnPath(tool.Item1)).ToList();
            return missing.Count == 0 ? null : $"a fleet needs {string.Join(", ", missing.Select(tool => $"`{tool.Item1}` (apt-get install {tool.Item2})"))}";
        }
    }

    /// <summary>Gets the fleet's name, which each of its namespaces' names starts with.</summary>
    public string Name => _options.Name;

    /// <summary>Gets the balancer.</summary>
    public FleetBalancer Balancer => _options.Balancer;

    /// <summary>Gets the address and port clients connect to.</summary>
    public IPEndPoint ServiceEndPoint => new(FleetAddresses.Service, _options.Port);

    /// <summary>Gets the address and HTTPS port clients connect to, when the fleet serves HTTPS (<see cref="FleetOptions.HttpsPort"/>).</summary>
    public IPEndPoint HttpsServiceEndPoint => new(FleetAddresses.Service, HttpsPort);

    /// <summary>Gets the port each instance serves HTTPS on.</summary>
    public int HttpsPort => _options.HttpsPort ?? throw new InvalidOperationException("the fleet serves no HTTPS: set FleetOptions.HttpsPort");

    /// <summary>Gets the client's address.</summary>
    public static IPAddress ClientAddress => FleetAddresses.Client;

    /// <summary>Gets the client's namespace: run clients there (<see cref="FleetNamespace.ExecAsync"/>, <see cref="FleetNamespace.Run{T}"/>).</summary>
    public FleetNamespace Client => _client ?? throw new InvalidOperationException("the fleet is not built");

    /// <summary>Gets the router's namespace.</summary>
    public FleetNamespace Router => _router ?? throw new InvalidOperationException("the fleet is not built");

    /// <summary>Gets the instances.</summary>
    public IReadOnlyList<FleetInstance> Instances => _instances;

    /// <summary>Builds the fleet and starts every instance; when anything fails, removes what it made and throws.</summary>
    /// <param name="options">What to build.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running fleet.</returns>
    public static async Task<EmulatedFleet> StartAsync(FleetOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (UnavailableReason is { } reason)
        {
            throw new PlatformNotSupportedException(reason);
        }

        var fleet = new EmulatedFleet(options);
        try
        {
            await fleet.BuildAsync(cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(fleet._instances.Select(instance => fleet.StartInstanceAsync(instance, cancellationToken))).ConfigureAwait(false);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Takes an instance out of the balancer: new connections go to the others, while its established connections stay
    /// on it (conntrack keeps them for DNAT, and a conntrack mark for ECMP).
    /// </summary>
    /// <param name="instance">One of <see cref="Instances"/>.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>A task that completes when the router has changed.</returns>
    public Task WithdrawAsync(FleetInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (_inService.Count == 1 && _inService.Contains(instance.Index))
        {
            throw new InvalidOperationException("the last instance in service cannot be withdrawn");
        }

        _inService.Remove(instance.Index);
        return ApplyBalancerAsync(cancellationToken);
    }

    /// <summary>Puts an instance back into the balancer.</summary>
    /// <param name="instance">One of <see cref="Instances"/>.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>A task that completes when the router has changed.</returns>
    public Task RestoreAsync(FleetInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        _inService.Add(instance.Index);
        return ApplyBalancerAsync(cancellationToken);
    }

    /// <summary>
    /// Restarts an instance as a rolling restart does: withdraws it, stops it (SIGTERM, so it finishes what it has),
    /// starts it again with the same configuration, waits until it accepts connections from the client, and restores it.
    /// </summary>
    /// <param name="instance">One of <see cref="Instances"/>.</param>
    /// <param name="cancellationToken">Cancels the restart.</param>
    /// <returns>A task that completes when the instance is back in service.</returns>
    public Task RestartAsync(FleetInstance instance, CancellationToken cancellationToken) => RestartAsync(instance, ready: null, cancellationToken);

    /// <summary>
    /// Restarts an instance as <see cref="RestartAsync(FleetInstance, CancellationToken)"/> does, restoring it only once
    /// <paramref name="ready"/> passes, as an orchestrator's readiness probe holds a pod back.
    /// </summary>
    /// <param name="instance">One of <see cref="Instances"/>.</param>
    /// <param name="ready">
    /// The readiness check (<see cref="FleetEarlyDataProbe.WaitUntilAcceptsAsync"/>); null to restore the instance once it
    /// accepts connections.
    /// </param>
    /// <param name="cancellationToken">Cancels the restart.</param>
    /// <returns>A task that completes when the instance is back in service.</returns>
    public async Task RestartAsync(FleetInstance instance, Func<FleetInstance, CancellationToken, Task>? ready, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        await WithdrawAsync(instance, cancellationToken).ConfigureAwait(false);
        await instance.StopAsync(cancellationToken).ConfigureAwait(false);
        await StartInstanceAsync(instance, cancellationToken).ConfigureAwait(false);
        if (ready is not null)
        {
            await ready(instance, cancellationToken).ConfigureAwait(false);
        }

        await RestoreAsync(instance, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a new cookie key: 16 random bytes as 32 hex digits.</summary>
    /// <returns>The key.</returns>
    public static string NewCookieKey() => RandomNumberGenerator.GetHexString(32, lowercase: true);

    /// <summary>Creates a new TLS ticket key: 32 random bytes as 64 hex digits.</summary>
    /// <returns>The key.</returns>
    public static string NewTicketKey() => RandomNumberGenerator.GetHexString(64, lowercase: true);

    /// <summary>Stops every instance and removes every namespace (with its links and nftables tables) and file the fleet made.</summary>
    /// <returns>A task that completes when everything is removed.</returns>
    /// <exception cref="AggregateException">Something could not be removed; everything else was.</exception>
    public async ValueTask DisposeAsync()
    {
        var failures = new List<Exception>();
        foreach (var instance in _instances)
        {
            Try(instance.Dispose, failures);
        }

        foreach (var ns in _namespaces)
        {
            try
            {
                await ns.DeleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        _namespaces.Clear();
        Try(() =>
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }, failures);

        if (failures.Count > 0)
        {
            throw new AggregateException($"fleet {Name} was not removed completely", failures);
        }
    }

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        var count = _options.InstanceCount;
        _client = await AddNamespaceAsync("client", cancellationToken).ConfigureAwait(false);
        _router = await AddNamespaceAsync("router", cancellationToken).ConfigureAwait(false);
        var instanceNamespaces = new List<FleetNamespace>();
        for (var i = 0; i < count; i++)
        {
            instanceNamespaces.Add(await AddNamespaceAsync(string.Create(CultureInfo.InvariantCulture, $"i{i}"), cancellationToken).ConfigureAwait(false));
        }

        // New namespaces start with TCP Fast Open for clients only, and no forwarding.
        _client.SetSysctl("net.ipv4.tcp_fastopen", "1");
        _router.SetSysctl("net.ipv4.ip_forward", "1");
        // ECMP hashes addresses and ports (L4), so one client's connections spread over the instances.
        _router.SetSysctl("net.ipv4.fib_multipath_hash_policy", "1");
        _router.SetSysctl("net.ipv4.conf.all.rp_filter", "0");
        _router.SetSysctl("net.ipv4.conf.default.rp_filter", "0");
        foreach (var ns in instanceNamespaces)
        {
            ns.SetSysctl("net.ipv4.tcp_fastopen", "3");
        }

        // Each veth is made with its ends already in their namespaces, so no name is ever taken in the caller's.
        await CreateLinkAsync(_client, RouterConfiguration.ClientLink, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < count; i++)
        {
            await CreateLinkAsync(instanceNamespaces[i], RouterConfiguration.InstanceLink(i), cancellationToken).ConfigureAwait(false);
        }

        await _client.ConfigureAsync(EndLink(FleetAddresses.Client, FleetAddresses.ClientGateway), cancellationToken).ConfigureAwait(false);
        await _router.ConfigureAsync(RouterConfiguration.Links(count, Balancer), cancellationToken).ConfigureAwait(false);
        var sharedKey = NewCookieKey();
        var https = _options.HttpsPort is not null;
        var sharedTicketKey = https ? NewTicketKey() : null;
        string? certificate = null;
        if (https)
        {
            Directory.CreateDirectory(_directory);
            certificate = Path.Combine(_directory, FleetCertificate.FileName);
            FleetCertificate.Write(certificate);
        }

        for (var i = 0; i < count; i++)
        {
            var commands = EndLink(FleetAddresses.Instance(i), FleetAddresses.InstanceGateway(i));
            if (Balancer == FleetBalancer.Ecmp)
            {
                // Anycast: every instance holds the service address, so it sees that address as the server's.
                commands = [.. commands, $"addr add {FleetAddresses.Service}/32 dev lo"];
            }

            await instanceNamespaces[i].ConfigureAsync(commands, cancellationToken).ConfigureAwait(false);
            var contentRoot = Path.Combine(_directory, string.Create(CultureInfo.InvariantCulture, $"i{i}"));
            var ticketKey = !https ? null : _options.SharedKeys ? sharedTicketKey : NewTicketKey();
            _instances.Add(new FleetInstance(i, instanceNamespaces[i], _options, contentRoot, _options.SharedKeys ? sharedKey : NewCookieKey(), ticketKey, certificate));
            _inService.Add(i);
        }

        if (Balancer == FleetBalancer.Ecmp)
        {
            // Once: the marks cover every instance, in service or not, so a withdrawn one keeps its connections.
            await _router.LoadNftablesAsync(RouterConfiguration.Nftables(Balancer, count, [], Ports), cancellationToken).ConfigureAwait(false);
        }

        await ApplyBalancerAsync(cancellationToken).ConfigureAwait(false);
    }

    private int[] Ports => _options.HttpsPort is { } httpsPort ? [_options.Port, httpsPort] : [_options.Port];

    private static string[] EndLink(IPAddress address, IPAddress gateway) =>
    [
        "link set lo up",
        $"addr add {address}/24 dev {RouterLink}",
        $"link set {RouterLink} up",
        $"route add default via {gateway}",
    ];

    private async Task<FleetNamespace> AddNamespaceAsync(string role, CancellationToken cancellationToken)
    {
        var ns = await FleetNamespace.CreateAsync($"{Name}-{role}", cancellationToken).ConfigureAwait(false);
        _namespaces.Add(ns);
        return ns;
    }

    private async Task CreateLinkAsync(FleetNamespace end, string routerEnd, CancellationToken cancellationToken) =>
        await FleetCommand.RunCheckedAsync("ip", ["link", "add", RouterLink, "netns", end.Name, "type", "veth", "peer", "name", routerEnd, "netns", Router.Name], cancellationToken).ConfigureAwait(false);

    private Task ApplyBalancerAsync(CancellationToken cancellationToken) => Balancer == FleetBalancer.Ecmp
        ? Router.ConfigureAsync([RouterConfiguration.MultipathRoute([.. _inService])], cancellationToken)
        : Router.LoadNftablesAsync(RouterConfiguration.Nftables(Balancer, _options.InstanceCount, [.. _inService], Ports), cancellationToken);

    private async Task StartInstanceAsync(FleetInstance instance, CancellationToken cancellationToken)
    {
        await instance.StartAsync(cancellationToken).ConfigureAwait(false);

        // Listening is not enough: the client must reach it through the router.
        using var socket = Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_probeTimeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(instance.Address, _options.Port), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"instance {instance.Index} listens, but the client cannot reach {instance.Address}:{_options.Port} through the router: {e.Message}", e);
        }
    }

    private static void Try(Action action, List<Exception> failures)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            failures.Add(e);
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, tool)));
}
