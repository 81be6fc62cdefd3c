using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Platform;

[Collection(nameof(KernelCounterTests))]
public sealed class NetstatCountersTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_TFO_connection_moves_the_passive_active_and_cookie_counters()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var netstat = new LinuxNetstat();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        FastOpenListenSocket.Enable(listener, 16);
        listener.Listen();
        var server = (IPEndPoint)listener.LocalEndPoint!;

        Assert.True(netstat.TryRead(out var before), netstat.Error);
        var cookie = await ConnectAsync(listener, server);
        Assert.True(netstat.TryRead(out var afterCookie), netstat.Error);
        var synData = await ConnectAsync(listener, server);
        Assert.True(netstat.TryRead(out var after), netstat.Error);

        Assert.False(cookie);
        Assert.True(synData);
        Assert.Equal(1, afterCookie[TcpFastOpenCounter.CookieReqd] - before[TcpFastOpenCounter.CookieReqd]);
        Assert.Equal(0, afterCookie[TcpFastOpenCounter.Passive] - before[TcpFastOpenCounter.Passive]);
        Assert.Equal(1, after[TcpFastOpenCounter.Passive] - afterCookie[TcpFastOpenCounter.Passive]);
        Assert.Equal(1, after[TcpFastOpenCounter.Active] - afterCookie[TcpFastOpenCounter.Active]);
        Assert.Equal(0, after[TcpFastOpenCounter.CookieReqd] - afterCookie[TcpFastOpenCounter.CookieReqd]);
    }

    /// <summary>One TFO connection carrying one byte; whether the server saw that byte in the SYN.</summary>
    private static async Task<bool> ConnectAsync(Socket listener, IPEndPoint server)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        FastOpenConnect.Set(client, enabled: true);
        await client.ConnectAsync(server, Timeout);
        await client.SendAsync(new byte[] { 42 }, SocketFlags.None, Timeout);
        using var accepted = await listener.AcceptAsync(Timeout);
        var synData = TcpConnectionInfo.Read(accepted).ReceivedSynData;

        // The reply completes the client's handshake, which is when the kernel counts an acknowledged SYN's data.
        var buffer = new byte[1];
        Assert.Equal(1, await accepted.ReceiveAsync(buffer, SocketFlags.None, Timeout));
        await accepted.SendAsync(buffer, SocketFlags.None, Timeout);
        Assert.Equal(1, await client.ReceiveAsync(buffer, SocketFlags.None, Timeout));
        return synData;
    }
}
