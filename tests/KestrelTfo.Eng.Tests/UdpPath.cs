using System.Net;
using System.Net.Sockets;
using KestrelTfo.NetEmu;

namespace KestrelTfo.Eng.Tests;

/// <summary>A UDP socket bound on one side of a link, and one on the other side connected to it.</summary>
internal sealed class UdpPath : IDisposable
{
    public UdpPath(EmulatedLink link, bool toServer)
    {
        Receiver = toServer ? link.CreateServerSocket(SocketType.Dgram, ProtocolType.Udp) : link.CreateClientSocket(SocketType.Dgram, ProtocolType.Udp);
        Sender = toServer ? link.CreateClientSocket(SocketType.Dgram, ProtocolType.Udp) : link.CreateServerSocket(SocketType.Dgram, ProtocolType.Udp);
        Receiver.Bind(new IPEndPoint(toServer ? link.ServerAddress : link.ClientAddress, 0));
        Sender.Bind(new IPEndPoint(toServer ? link.ClientAddress : link.ServerAddress, 0));
        Sender.Connect(Receiver.LocalEndPoint!);
    }

    public Socket Receiver { get; }

    public Socket Sender { get; }

    public void Dispose()
    {
        Receiver.Dispose();
        Sender.Dispose();
    }
}
