using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using KestrelTfo.EarlyData;
using KestrelTfo.Platform;

namespace KestrelTfo.Microbenchmarks;

/// <summary>
/// What the guard does to each accepted socket before Kestrel gets it (<see cref="SynDataInspection.Inspect"/>, which
/// EarlyDataGuard.Decide calls), on real loopback sockets: every connection pays one <c>getsockopt(TCP_INFO)</c>; a TCP
/// Fast Open connection also pays a 256-byte <c>MSG_PEEK</c> and the classification of what it peeked.
/// </summary>
/// <remarks>
/// The TFO socket is accepted from a second <c>TCP_FASTOPEN_CONNECT</c> connection (the first fetched the cookie),
/// so its SYN really carried the request and <c>TCP_INFO</c> really has <c>TCPI_OPT_SYN_DATA</c>. Peeking leaves the
/// data queued, so every iteration sees the same socket state as the listener does at accept.
/// </remarks>
[MemoryDiagnoser]
public class AcceptPathBenchmarks
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"u8.ToArray();

    private readonly List<Socket> _sockets = [];
    private Socket _plain = null!;
    private Socket _fastOpen = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (!LinuxFastOpenSysctl.TryRead(out var tcpFastOpen, out _) || tcpFastOpen != 3)
        {
            throw new InvalidOperationException("net.ipv4.tcp_fastopen must be 3 (run it through eng/bench-throughput.sh)");
        }

        var listener = Keep(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        FastOpenListenSocket.Enable(listener, 16);
        listener.Listen(16);
        var server = (IPEndPoint)listener.LocalEndPoint!;

        _plain = Connect(listener, server, fastOpen: false);
        Connect(listener, server, fastOpen: true);               // fetches the cookie
        _fastOpen = Connect(listener, server, fastOpen: true);   // carries the request in its SYN
        if (!TcpConnectionInfo.Read(_fastOpen).ReceivedSynData || TcpConnectionInfo.Read(_plain).ReceivedSynData)
        {
            throw new InvalidOperationException("the kernel did not accept the second connection's data in its SYN");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _sockets.ForEach(socket => socket.Dispose());

    /// <summary>The whole inspection a connection without TCP Fast Open gets.</summary>
    [Benchmark]
    public EarlyDataKind InspectPlainConnection()
    {
        Span<byte> head = stackalloc byte[SynDataInspection.PeekedBytes];
        return SynDataInspection.Inspect(_plain, head).Classification.Kind;
    }

    /// <summary>The whole inspection of a TCP Fast Open connection: TCP_INFO, peek, classification.</summary>
    [Benchmark]
    public EarlyDataKind InspectFastOpenConnection()
    {
        Span<byte> head = stackalloc byte[SynDataInspection.PeekedBytes];
        return SynDataInspection.Inspect(_fastOpen, head).Classification.Kind;
    }

    /// <summary>The <c>MSG_PEEK</c> alone, to split the inspection's cost.</summary>
    [Benchmark]
    public int PeekOnly()
    {
        Span<byte> head = stackalloc byte[SynDataInspection.PeekedBytes];
        return _fastOpen.Receive(head, SocketFlags.Peek);
    }

    private Socket Keep(Socket socket)
    {
        _sockets.Add(socket);
        return socket;
    }

    private Socket Connect(Socket listener, IPEndPoint server, bool fastOpen)
    {
        var client = Keep(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        if (fastOpen)
        {
            FastOpenConnect.Set(client, enabled: true);
        }

        client.Connect(server);
        client.Send(Request);
        var accepted = Keep(listener.Accept());

        // The data of a connection that fetched a cookie arrives after the handshake: wait until it is there, so
        // every socket is inspected with its request queued, as at a real accept.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (accepted.Available < Request.Length && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        return accepted;
    }
}
