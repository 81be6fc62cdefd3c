using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// Sets addresses, MTU and the up flag through the classic <c>SIOCSIF*</c> ioctls on a datagram socket, which act
/// on the namespace the socket was created in. That keeps the link free of iproute2 and of child processes.
/// </summary>
internal static unsafe class InterfaceConfigurator
{
    private const int IfReqSize = 40;
    private const int IfNameSize = 16;
    private const short IffUp = 0x1;

    public static void Configure(string name, IPAddress local, IPAddress peer, int mtu)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        SetAddress(fd, name, NativeMethods.SiocSIfAddr, local);
        SetAddress(fd, name, NativeMethods.SiocSIfDstAddr, peer);
        SetAddress(fd, name, NativeMethods.SiocSIfNetmask, IPAddress.Broadcast);
        SetMtu(fd, name, mtu);
        BringUp(fd, name);
    }

    /// <summary>Brings up an interface that needs no address, such as a new namespace's loopback.</summary>
    public static void BringUp(string name)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        BringUp((int)socket.SafeHandle.DangerousGetHandle(), name);
    }

    private static void BringUp(int fd, string name)
    {
        var request = stackalloc byte[IfReqSize];
        Call(fd, NativeMethods.SiocGIfFlags, request, name);
        *(short*)(request + IfNameSize) |= IffUp;
        Call(fd, NativeMethods.SiocSIfFlags, request, name);
    }

    private static void SetAddress(int fd, string name, nuint call, IPAddress address)
    {
        var request = stackalloc byte[IfReqSize];
        // struct sockaddr_in: family, port (0), then the address in network order.
        *(ushort*)(request + IfNameSize) = (ushort)AddressFamily.InterNetwork;
        address.TryWriteBytes(new Span<byte>(request + IfNameSize + 4, 4), out _);
        Call(fd, call, request, name);
    }

    private static void SetMtu(int fd, string name, int mtu)
    {
        var request = stackalloc byte[IfReqSize];
        *(int*)(request + IfNameSize) = mtu;
        Call(fd, NativeMethods.SiocSIfMtu, request, name);
    }

    /// <summary>Writes the name into the request (the rest is the caller's) and makes the call.</summary>
    private static void Call(int fd, nuint call, byte* request, string name)
    {
        var nameField = new Span<byte>(request, IfNameSize);
        nameField.Clear();
        Encoding.ASCII.GetBytes(name, nameField[..(IfNameSize - 1)]);
        if (NativeMethods.Ioctl(fd, call, request) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"ioctl 0x{call:x} on {name} failed");
        }
    }
}
