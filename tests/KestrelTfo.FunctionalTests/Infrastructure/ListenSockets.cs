using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Keeps the listening sockets the transport makes, through its public <see cref="FastOpenTransportOptions.CreateBoundListenSocket"/>
/// seam, so that a test can ask the kernel about them (queue length, cookie keys).
/// </summary>
internal sealed class ListenSockets
{
    private readonly ConcurrentQueue<Socket> _sockets = new();

    public Socket Single => Assert.Single(_sockets);

    /// <summary>Makes the app's transport create its listening sockets here.</summary>
    public void Install(IWebHostBuilder web) =>
        web.ConfigureServices(services => services.Configure<FastOpenTransportOptions>(options => options.CreateBoundListenSocket = Create));

    public Socket Create(EndPoint endPoint)
    {
        var socket = FastOpenTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        _sockets.Enqueue(socket);
        return socket;
    }

    /// <summary>The keys a listener makes and checks cookies with, primary first, in hex.</summary>
    public static string CookieKeys(Socket listener)
    {
        Span<byte> keys = stackalloc byte[32];
        var length = listener.GetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpFastOpenKey, keys);
        return Convert.ToHexStringLower(keys[..length]);
    }
}
