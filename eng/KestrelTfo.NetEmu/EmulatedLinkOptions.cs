using System.Net;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.NetEmu;

/// <summary>How to build an <see cref="EmulatedLink"/>.</summary>
public sealed class EmulatedLinkOptions
{
    /// <summary>The largest <see cref="TraceCapacity"/>: a million segments, some 40 MB.</summary>
    public const int MaxTraceCapacity = 1_000_000;

    /// <summary>Gets what the link does to packets from the client to the server.</summary>
    public LinkDirectionOptions ToServer { get; } = new();

    /// <summary>Gets what the link does to packets from the server to the client.</summary>
    public LinkDirectionOptions ToClient { get; } = new();

    /// <summary>
    /// Gets or sets the server side's address. Only addresses from the benchmarking range 198.18.0.0/15 (RFC 2544)
    /// are accepted, so a link never captures traffic meant for a real network.
    /// </summary>
    /// <remarks>Defaults to <see langword="null"/>: a fresh pair from 198.18.0.0/16 per link, so links can coexist and
    /// every link's server is a destination the client's kernel holds no TFO cookie for yet.</remarks>
    public IPAddress? ServerAddress { get; set; }

    /// <summary>Gets or sets the client side's address, from 198.18.0.0/15 like <see cref="ServerAddress"/>.</summary>
    /// <remarks>Defaults to <see langword="null"/>: chosen with <see cref="ServerAddress"/>.</remarks>
    public IPAddress? ClientAddress { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the receiving kernel takes each packet's TCP checksum as verified, as it
    /// does from a network card with receive checksum offload (most server cards, virtio-net, loopback, veth). Without
    /// it the kernel checks the checksum itself, and defers that for segments over 76 bytes until the socket has run
    /// its filter, as it does behind a tunnel without offload: then a listener's socket filter that trims a segment
    /// makes it fail the check and be dropped (<c>TcpInCsumErrors</c>).
    /// </summary>
    /// <remarks>Defaults to <see langword="true"/>: a link between two hosts with ordinary network cards.</remarks>
    public bool ChecksumOffload { get; set; } = true;

    /// <summary>Gets or sets the MTU of both devices.</summary>
    /// <remarks>Defaults to 1500, an Ethernet path's.</remarks>
    public int Mtu { get; set; } = 1500;

    /// <summary>
    /// Gets or sets a name that makes both sides named network namespaces, <c>kestreltfo-NAME-server</c> and
    /// <c>kestreltfo-NAME-client</c>, which people and other processes can enter with <c>ip netns exec</c>.
    /// They are deleted on dispose; ones a crashed run left are deleted when the next named link starts.
    /// </summary>
    /// <remarks>Defaults to <see langword="null"/>: the server side is the caller's own namespace and the client
    /// side an anonymous namespace that vanishes with the link or the process, whichever goes first.</remarks>
    public string? NamespaceName { get; set; }

    /// <summary>
    /// Gets or sets which end of the link is the caller's own network namespace; the other end is an anonymous
    /// namespace that the link makes. With <see cref="LinkSide.Client"/> the caller connects out across the link to a
    /// server in the new namespace, so two links chain through the caller: a client behind one link, the caller in the
    /// middle (a proxy, say) as the server of that link and the client of the next, a backend behind the second.
    /// </summary>
    /// <remarks>Defaults to <see cref="LinkSide.Server"/>. <see cref="LinkSide.Client"/> cannot go with
    /// <see cref="NamespaceName"/>, which makes both ends named namespaces.</remarks>
    public LinkSide CallerSide { get; set; } = LinkSide.Server;

    /// <summary>
    /// Gets or sets the <c>net.ipv4.tcp_fastopen</c> value for the namespaces the link creates (the end that is not
    /// the caller's, or both when <see cref="NamespaceName"/> is set). <see langword="null"/> keeps the kernel's default (1).
    /// </summary>
    /// <remarks>Defaults to 3: client and server TFO on.</remarks>
    public int? TcpFastOpen { get; set; } = 3;

    /// <summary>
    /// Gets or sets how many TCP segments <see cref="EmulatedLink.Trace"/> records between drains: when each left its
    /// sender and reached its receiver, so a caller can tell the time a connection spent in the client, in the
    /// server and on the link. Recording costs the forwarder a lock and a header read per segment.
    /// </summary>
    /// <remarks>Defaults to 0: no trace.</remarks>
    public int TraceCapacity { get; set; }

    /// <summary>Gets or sets the seed of the random faults, for a run that repeats exactly.</summary>
    /// <remarks>Defaults to <see langword="null"/>: a random seed.</remarks>
    public int? Seed { get; set; }

    /// <summary>Gets or sets where the link logs its start, stop and failures (event ids 60-79).</summary>
    /// <remarks>Defaults to <see langword="null"/>: no logging.</remarks>
    public ILogger? Logger { get; set; }

    /// <summary>Sets both directions' delay to half of a round-trip time.</summary>
    /// <param name="roundTripTime">The time a packet and its answer take together across the link.</param>
    /// <returns>These options.</returns>
    public EmulatedLinkOptions WithRoundTripTime(TimeSpan roundTripTime)
    {
        ToServer.Delay = roundTripTime / 2;
        ToClient.Delay = roundTripTime / 2;
        return this;
    }
}
