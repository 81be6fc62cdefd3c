using System.ComponentModel;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// A non-persistent TUN device: it exists in the namespace of the thread that opened it for as long as its file
/// descriptor is open, so the kernel removes it when the link is disposed or the process dies.
/// </summary>
internal sealed unsafe class TunDevice : IDisposable
{
    /// <summary>The <c>struct virtio_net_hdr</c> each read and write carries with <c>IFF_VNET_HDR</c> (linux/virtio_net.h).</summary>
    public const int VirtioHeaderLength = 10;

    /// <summary>
    /// <c>VIRTIO_NET_HDR_F_NEEDS_CSUM</c>, the one checksum flag <c>tun</c> takes from a writer: the packet becomes
    /// <c>CHECKSUM_PARTIAL</c>, which the kernel trusts on local delivery, as it trusts a card with receive offload.
    /// </summary>
    public const byte VirtioNeedsChecksum = 1;

    private const short IffTun = 0x1;
    private const short IffNoPi = 0x1000;
    private const short IffVnetHdr = 0x4000;
    private const int IfReqSize = 40;
    private const int IfNameSize = 16;

    private TunDevice(int fd, string name)
    {
        Fd = fd;
        Name = name;
    }

    public int Fd { get; private set; }

    public string Name { get; }

    /// <summary>Opens a TUN device, named by the kernel from the pattern, in the calling thread's namespace.</summary>
    /// <param name="namePattern">The name, with <c>%d</c> for a number the kernel picks.</param>
    /// <param name="virtioHeader">Whether every packet read or written starts with a <see cref="VirtioHeaderLength"/>-byte header.</param>
    public static TunDevice Open(string namePattern, bool virtioHeader)
    {
        var fd = NativeMethods.Open("/dev/net/tun", NativeMethods.ORdWr | NativeMethods.ONonBlock | NativeMethods.OCloExec);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "cannot open /dev/net/tun");
        }

        var request = stackalloc byte[IfReqSize];
        new Span<byte>(request, IfReqSize).Clear();
        Encoding.ASCII.GetBytes(namePattern, new Span<byte>(request, IfNameSize - 1));
        // Raw IP packets, without the 4-byte packet-information header. The device offers no offloads, so what the
        // kernel hands it is complete, checksums included.
        *(short*)(request + IfNameSize) = (short)(IffTun | IffNoPi | (virtioHeader ? IffVnetHdr : 0));
        if (NativeMethods.Ioctl(fd, NativeMethods.TunSetIff, request) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            NativeMethods.Close(fd);
            throw new Win32Exception(error, "TUNSETIFF failed");
        }

        var name = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(request, IfNameSize)).TrimEnd('\0');
        return new TunDevice(fd, name);
    }

    /// <summary>
    /// Gives the device its address and its peer's (a point-to-point link, so the kernel adds the route to the
    /// peer by itself) and brings it up. Runs in the device's namespace.
    /// </summary>
    public void Configure(IPAddress local, IPAddress peer, int mtu)
    {
        InterfaceConfigurator.Configure(Name, local, peer, mtu);
    }

    public void Dispose()
    {
        if (Fd >= 0)
        {
            NativeMethods.Close(Fd);
            Fd = -1;
        }
    }
}
