using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// More client addresses on an emulated link, each a client of its own to the server (an IPv4 address is one client
/// to the transport's per-client limit, and has its own TCP Fast Open cookie), and an attacker's firewall on the client
/// side. Addresses come from 198.19.128.0/17, which links never pick; they and the firewall vanish with the link's
/// devices and client namespace.
/// </summary>
internal static class LinkClients
{
    private static int s_next;

    /// <summary>Adds an address to the link's client side and a route to it on the server side.</summary>
    public static async Task<IPAddress> AddAddressAsync(EmulatedLink link, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref s_next) & 0x7fff;
        var address = new IPAddress([198, 19, (byte)(128 + (n >> 8)), (byte)(n & 0xff)]);
        await RunAsync("nsenter", [$"--net={link.ClientNamespace}", "ip", "addr", "add", $"{address}/32", "dev", link.ClientDeviceName], cancellationToken);
        await RunAsync("ip", ["route", "add", $"{address}/32", "dev", link.ServerDeviceName], cancellationToken);
        return address;
    }

    /// <summary>
    /// A socket on the link's client side that connects from <paramref name="address"/> and <paramref name="port"/>
    /// (0: one the kernel picks).
    /// </summary>
    public static Socket SocketFrom(EmulatedLink link, IPAddress address, int port = 0)
    {
        var socket = link.CreateClientSocket();
        socket.Bind(new IPEndPoint(address, port));
        return socket;
    }

    /// <summary>
    /// Drops every segment <paramref name="address"/> sends to <paramref name="server"/> but its SYNs, in the client
    /// namespace: the client that sends SYNs with data and never acknowledges a SYN-ACK.
    /// </summary>
    public static Task DropAllButSynsAsync(EmulatedLink link, IPAddress address, IPEndPoint server, CancellationToken cancellationToken) =>
        RunAsync(
            "nsenter",
            [$"--net={link.ClientNamespace}", "nft",
             "add table ip kestreltfo_attacker; "
             + "add chain ip kestreltfo_attacker output { type filter hook output priority 0; policy accept; }; "
             + $"add rule ip kestreltfo_attacker output ip saddr {address} ip daddr {server.Address} tcp dport {server.Port} tcp flags & syn != syn drop"],
            cancellationToken);

    private static async Task RunAsync(string fileName, string[] arguments, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(fileName, arguments, TimeSpan.FromSeconds(10), cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {exitCode}: {output}");
        }
    }
}
