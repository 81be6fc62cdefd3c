using System.Net;
using System.Net.Sockets;
using KestrelTfo.NetEmu.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KestrelTfo.NetEmu;

/// <summary>
/// An emulated wide-area link between two network namespaces: a TUN device in each, and a user-space forwarder
/// between them that adds delay, jitter, loss, reordering, duplication and TFO SYN replay per direction. It stands
/// in for netem, which this machine kind lacks, so that round trips take real time.
/// </summary>
/// <remarks>
/// <para>By default the server side is the caller's own network namespace (run the process under <c>unshare -n</c>
/// so the host's is left alone), so a server binds <see cref="ServerAddress"/> as usual; the client side is an
/// anonymous namespace, and client sockets come from <see cref="CreateClientSocket"/> or
/// <see cref="RunInClientNamespace{T}(Func{T})"/>. A socket keeps the namespace it was created in, so once made it
/// can be used from any thread. <see cref="EmulatedLinkOptions.CallerSide"/> turns that round: the caller's namespace
/// is the client side and a server listens in the new one (its listening socket from <see cref="CreateServerSocket"/>
/// or <see cref="RunInServerNamespace{T}(Func{T})"/>), so two links can chain through the caller.</para>
/// <para>Needs Linux, root (or <c>CAP_NET_ADMIN</c>) and <c>/dev/net/tun</c>: see <see cref="UnavailableReason"/>.
/// The devices and anonymous namespace vanish with the process, so a caller that dies leaves nothing.</para>
/// </remarks>
public sealed class EmulatedLink : IDisposable
{
    private static int s_nextPair = Random.Shared.Next(0, 1 << 14);

    private readonly List<IDisposable> _resources = [];
    private readonly NamespaceThread? _serverNamespace;
    private readonly NamespaceThread? _clientNamespace;
    private readonly string[] _namedNamespaces;
    private readonly List<string> _createdNamespaces = [];
    private readonly ILogger _logger;
    private int _disposed;

    private EmulatedLink(EmulatedLinkOptions options)
    {
        _logger = options.Logger ?? NullLogger.Instance;
        (ServerAddress, ClientAddress) = ChooseAddresses(options);
        _namedNamespaces = options.NamespaceName is { } name
            ? [$"{NamedNamespaces.Prefix}{name}-server", $"{NamedNamespaces.Prefix}{name}-client"]
            : [];

        try
        {
            if (_namedNamespaces.Length > 0)
            {
                NamedNamespaces.RemoveLeftovers(_logger);
                foreach (var named in _namedNamespaces)
                {
                    NamedNamespaces.Create(named, _logger);
                    _createdNamespaces.Add(named);
                }

                _serverNamespace = Track(NamespaceThread.EnterNamespace("netemu server", NamedNamespaces.PathOf(_namedNamespaces[0])));
                _clientNamespace = Track(NamespaceThread.EnterNamespace("netemu client", NamedNamespaces.PathOf(_namedNamespaces[1])));
                _serverNamespace.Run(() => PrepareNamespace(options.TcpFastOpen));
            }
            else if (options.CallerSide == LinkSide.Client)
            {
                _serverNamespace = Track(NamespaceThread.CreateNamespace("netemu server"));
                _serverNamespace.Run(() => PrepareNamespace(options.TcpFastOpen));
            }
            else
            {
                _clientNamespace = Track(NamespaceThread.CreateNamespace("netemu client"));
            }

            _clientNamespace?.Run(() => PrepareNamespace(options.TcpFastOpen));

            var serverDevice = Track(RunInServerNamespace(() => TunDevice.Open("ktfo%d", options.ChecksumOffload)));
            RunInServerNamespace(() => serverDevice.Configure(ServerAddress, ClientAddress, options.Mtu));
            var clientDevice = Track(RunInClientNamespace(() => TunDevice.Open("ktfo%d", options.ChecksumOffload)));
            RunInClientNamespace(() => clientDevice.Configure(ClientAddress, ServerAddress, options.Mtu));
            ServerDeviceName = serverDevice.Name;
            ClientDeviceName = clientDevice.Name;

            var seed = options.Seed ?? Random.Shared.Next();
            Trace = options.TraceCapacity > 0 ? new SegmentTrace(options.TraceCapacity) : null;
            var toServer = Track(new PacketForwarder(toServer: true, clientDevice.Fd, serverDevice.Fd, options.ChecksumOffload, options.ToServer, ToServer, Trace, seed, _logger));
            var toClient = Track(new PacketForwarder(toServer: false, serverDevice.Fd, clientDevice.Fd, options.ChecksumOffload, options.ToClient, ToClient, Trace, seed + 1, _logger));
            // Forwarders go before the devices on dispose (stopped in reverse order), so no thread reads a closed fd.
            _resources.Remove(toServer);
            _resources.Remove(toClient);
            _resources.Add(toServer);
            _resources.Add(toClient);
            toServer.Start();
            toClient.Start();
        }
        catch
        {
            Dispose();
            throw;
        }

        NetEmuLog.LinkStarted(
            _logger, ServerAddress, ServerDeviceName, ClientAddress, ClientDeviceName, ClientNamespace, options.ToServer.ToString(), options.ToClient.ToString());
    }

    /// <summary>
    /// Gets why links cannot be built here (not Linux, not root, no <c>/dev/net/tun</c>), or <see langword="null"/>
    /// when they can. Tests skip with this reason.
    /// </summary>
    public static string? UnavailableReason =>
        !OperatingSystem.IsLinux() ? "an emulated link needs Linux (network namespaces and TUN devices)"
        : !Environment.IsPrivilegedProcess ? "an emulated link needs root (CAP_NET_ADMIN) to create network namespaces and TUN devices"
        : !File.Exists("/dev/net/tun") ? "an emulated link needs /dev/net/tun (the tun module)"
        : null;

    /// <summary>Gets the server side's address; servers listen on it.</summary>
    public IPAddress ServerAddress { get; }

    /// <summary>Gets the client side's address; client sockets connect from it.</summary>
    public IPAddress ClientAddress { get; }

    /// <summary>Gets the server side's TUN device name.</summary>
    public string ServerDeviceName { get; } = "";

    /// <summary>Gets the client side's TUN device name (in the client namespace).</summary>
    public string ClientDeviceName { get; } = "";

    /// <summary>
    /// Gets the client namespace as something other processes can enter while the link lives: a path for
    /// <c>nsenter --net=PATH</c> (anonymous, or the process's own with <see cref="EmulatedLinkOptions.CallerSide"/>
    /// <see cref="LinkSide.Client"/>) or a name for <c>ip netns exec NAME</c> (named).
    /// </summary>
    public string ClientNamespace => _namedNamespaces.Length > 0 ? _namedNamespaces[1] : _clientNamespace?.NamespacePath ?? CallerNamespacePath;

    /// <summary>
    /// Gets the server namespace: its name when named, the path of the anonymous one the link made with
    /// <see cref="EmulatedLinkOptions.CallerSide"/> <see cref="LinkSide.Client"/>, or <see langword="null"/> when the
    /// server side is the caller's namespace.
    /// </summary>
    public string? ServerNamespace => _namedNamespaces.Length > 0 ? _namedNamespaces[0] : _serverNamespace?.NamespacePath;

    /// <summary>The process's own namespace, the caller's end when it is the client side.</summary>
    private static string CallerNamespacePath => $"/proc/{Environment.ProcessId}/ns/net";

    /// <summary>Gets the counts for packets from the client to the server.</summary>
    public LinkDirectionStatistics ToServer { get; } = new();

    /// <summary>Gets the counts for packets from the server to the client.</summary>
    public LinkDirectionStatistics ToClient { get; } = new();

    /// <summary>
    /// Gets the TCP segments the link delivered, when <see cref="EmulatedLinkOptions.TraceCapacity"/> asked for them;
    /// otherwise <see langword="null"/>.
    /// </summary>
    public SegmentTrace? Trace { get; }

    /// <summary>Builds a link and starts forwarding.</summary>
    /// <param name="options">The link's faults, addresses and namespaces; <see langword="null"/> for a plain link without delay.</param>
    /// <returns>The running link; dispose it to tear it down.</returns>
    /// <exception cref="PlatformNotSupportedException">When <see cref="UnavailableReason"/> is not <see langword="null"/>.</exception>
    public static EmulatedLink Start(EmulatedLinkOptions? options = null)
    {
        options ??= new EmulatedLinkOptions();
        if (UnavailableReason is { } reason)
        {
            throw new PlatformNotSupportedException(reason);
        }

        options.ToServer.Validate(nameof(options.ToServer));
        options.ToClient.Validate(nameof(options.ToClient));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Mtu, 576, nameof(options.Mtu));
        ArgumentOutOfRangeException.ThrowIfNegative(options.TraceCapacity, nameof(options.TraceCapacity));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.TraceCapacity, EmulatedLinkOptions.MaxTraceCapacity, nameof(options.TraceCapacity));
        if (options.CallerSide == LinkSide.Client && options.NamespaceName is not null)
        {
            throw new ArgumentException($"{nameof(options.NamespaceName)} makes both ends named namespaces, so the caller's cannot be the client end", nameof(options));
        }

        return new EmulatedLink(options);
    }

    /// <summary>Deletes the named namespaces (<c>kestreltfo-*</c>) that crashed runs left and no process is in.</summary>
    /// <param name="logger">Where to log each removal, or <see langword="null"/>.</param>
    /// <returns>How many were removed.</returns>
    public static int RemoveLeftoverNamespaces(ILogger? logger = null) => NamedNamespaces.RemoveLeftovers(logger ?? NullLogger.Instance);

    /// <summary>Runs <paramref name="work"/> synchronously on a thread in the client namespace (inline when that is the caller's).</summary>
    /// <typeparam name="T">What the work returns.</typeparam>
    /// <param name="work">Work that creates what must live in the client namespace: sockets, mostly.</param>
    /// <returns>What <paramref name="work"/> returned.</returns>
    public T RunInClientNamespace<T>(Func<T> work)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _clientNamespace is null ? work() : _clientNamespace.Run(work);
    }

    /// <summary>Runs <paramref name="work"/> synchronously in the server namespace (inline when that is the caller's).</summary>
    /// <typeparam name="T">What the work returns.</typeparam>
    /// <param name="work">Work that creates what must live in the server namespace.</param>
    /// <returns>What <paramref name="work"/> returned.</returns>
    public T RunInServerNamespace<T>(Func<T> work) => _serverNamespace is null ? work() : _serverNamespace.Run(work);

    /// <summary>Creates an IPv4 socket in the client namespace, ready to connect to <see cref="ServerAddress"/>.</summary>
    /// <param name="socketType">The socket type.</param>
    /// <param name="protocolType">The protocol.</param>
    /// <returns>The socket; it stays in the client namespace whichever thread uses it.</returns>
    public Socket CreateClientSocket(SocketType socketType = SocketType.Stream, ProtocolType protocolType = ProtocolType.Tcp) =>
        RunInClientNamespace(() => new Socket(AddressFamily.InterNetwork, socketType, protocolType));

    /// <summary>Creates an IPv4 socket in the server namespace.</summary>
    /// <param name="socketType">The socket type.</param>
    /// <param name="protocolType">The protocol.</param>
    /// <returns>The socket.</returns>
    public Socket CreateServerSocket(SocketType socketType = SocketType.Stream, ProtocolType protocolType = ProtocolType.Tcp) =>
        RunInServerNamespace(() => new Socket(AddressFamily.InterNetwork, socketType, protocolType));

    /// <summary>Stops forwarding, removes the devices and the namespaces the link made.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        for (var i = _resources.Count - 1; i >= 0; i--)
        {
            _resources[i].Dispose();
        }

        // Only the ones this link made: a start that failed because another link holds the name leaves that link alone.
        foreach (var named in _createdNamespaces)
        {
            try
            {
                NamedNamespaces.Delete(named);
            }
            catch (InvalidOperationException)
            {
                // Someone still has it open; the next start removes it once they are gone.
            }
        }

        if (ServerDeviceName.Length > 0)
        {
            NetEmuLog.LinkStopped(_logger, ServerAddress, ClientAddress, ToServer, ToClient);
        }
    }

    private T Track<T>(T resource)
        where T : IDisposable
    {
        _resources.Add(resource);
        return resource;
    }

    private void RunInServerNamespace(Action work) => RunInServerNamespace(() =>
    {
        work();
        return true;
    });

    private void RunInClientNamespace(Action work) => RunInClientNamespace(() =>
    {
        work();
        return true;
    });

    private static bool PrepareNamespace(int? tcpFastOpen)
    {
        InterfaceConfigurator.BringUp("lo");
        if (tcpFastOpen is { } value)
        {
            // /proc/sys/net resolves against the namespace of the thread that opens it: this one.
            File.WriteAllText("/proc/sys/net/ipv4/tcp_fastopen", value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return true;
    }

    private static (IPAddress Server, IPAddress Client) ChooseAddresses(EmulatedLinkOptions options)
    {
        if (options.ServerAddress is not null || options.ClientAddress is not null)
        {
            var server = options.ServerAddress ?? throw new ArgumentException("set ClientAddress and ServerAddress together", nameof(options));
            var client = options.ClientAddress ?? throw new ArgumentException("set ClientAddress and ServerAddress together", nameof(options));
            RequireBenchmarkingRange(server);
            RequireBenchmarkingRange(client);
            return (server, client);
        }

        // 2^14 pairs of a /30 each: 198.18.X.(4n+1) for the server, 4n+2 for the client.
        var pair = Interlocked.Increment(ref s_nextPair) & ((1 << 14) - 1);
        var third = (byte)(pair >> 6);
        var fourth = (byte)((pair & 63) * 4 + 1);
        return (new IPAddress([198, 18, third, fourth]), new IPAddress([198, 18, third, (byte)(fourth + 1)]));
    }

    private static void RequireBenchmarkingRange(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        if (bytes.Length != 4 || bytes[0] != 198 || (bytes[1] & 0xfe) != 18)
        {
            throw new ArgumentException($"{address} is not in the benchmarking range 198.18.0.0/15 (RFC 2544)", nameof(address));
        }
    }
}
