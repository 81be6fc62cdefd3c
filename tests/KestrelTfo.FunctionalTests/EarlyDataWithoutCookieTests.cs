using System.Diagnostics.Metrics;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// A kernel that takes data in SYNs without a cookie (server bit 0x200): anyone can then put a request in a SYN, even
/// from a spoofed address, so the guard is all that stands between such SYNs and the app. These tests change the
/// namespace's sysctl.
/// </summary>
[Collection(nameof(SysctlTests))]
public sealed class EarlyDataWithoutCookieTests
{
    private const int Connections = 5;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    public async Task SYNs_with_a_POST_and_no_cookie_are_each_flagged_or_kept_out_of_the_SYN(string policy)
    {
        using var sysctl = FastOpenEnvironment.SetSysctl(0x203);
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        // No cookie connection first: every SYN asks for none and carries the POST (TCP_FASTOPEN_NO_COOKIE).
        var exchanges = new List<RawExchange>();
        for (var i = 0; i < Connections; i++)
        {
            exchanges.Add(await RawHttp.SendAsync(app.EndPoint, RawHttp.Post("/transfer"), Timeout, createSocket: WithoutCookie));
        }

        var transfers = app.Services.GetRequiredService<RequestLedger>().Transfers;
        Assert.Equal(Connections, transfers.Count);
        if (policy == "Flag")
        {
            // Taken in the SYN without a cookie, and each one flagged for the app.
            Assert.All(exchanges, e => Assert.True(e.SynDataAcknowledged));
            Assert.All(transfers, t => Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", EarlyDataAction.Flagged), t));
        }
        else
        {
            // The listener's filter trims the POST off each SYN despite bit 0x200; a SYN without data and without a cookie
            // option is a plain SYN, so each connection is an ordinary one, and each POST runs once after its handshake.
            Assert.All(exchanges, e => Assert.False(e.SynDataAcknowledged));
            Assert.All(transfers, t => Assert.Equal(new FastOpenReport(true, false, 0, EarlyDataKind.None, null, EarlyDataAction.None), t));
            Assert.Equal(0, metrics.Sum("kestreltfo.early_data.connections"));
        }
    }

    private static Socket WithoutCookie()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpFastOpenNoCookie, BitConverter.GetBytes(1));
        return socket;
    }
}
