using System.Diagnostics.Metrics;
using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// The guard against SYNs an attacker would try, end to end over real sockets: listeners of another shape than the
/// usual one, and early data that looks safe at its start but is not.
/// </summary>
public sealed class EarlyDataHostileTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("ipv4")]
    [InlineData("ipv6")]
    public async Task Defer_on_a_dual_mode_listener_keeps_a_POST_out_of_the_SYN_for_clients_of_either_family(string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        // What ListenAnyIP binds: [::], dual mode, so IPv4 clients arrive as IPv4-mapped addresses on an IPv6 socket.
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" },
            listen: o => o.ListenAnyIP(0));
        var server = new IPEndPoint(family == "ipv4" ? Loopback.NextAddress() : Loopback.NextIPv6Address(), app.EndPoint.Port);
        await RawHttp.SendAsync(server, RawHttp.Request("/tfo"), Timeout);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        var exchange = await RawHttp.SendAsync(server, RawHttp.Post("/transfer"), Timeout);

        Assert.Equal(IPAddress.IPv6Any, app.EndPoint.Address);
        Assert.False(exchange.SynDataAcknowledged, "the kernel took a POST in the SYN on a dual-mode listener under Defer");
        Assert.Equal(new FastOpenReport(true, true, 0, EarlyDataKind.None, null, EarlyDataAction.Deferred), RawResponse.Parse(exchange.Response).Report());
        Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers);
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "kernel_deferred")));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag", false)]
    [InlineData("Defer", false)]
    [InlineData("Flag", true)]
    [InlineData("Defer", true)]
    public async Task A_ClientHello_with_a_POST_behind_it_in_one_SYN_never_runs_the_POST(string policy, bool tls)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy },
            listen: o => o.Listen(Loopback.NextAddress(), 0, listen =>
            {
                if (tls)
                {
                    // The cookie exchange below waits for the server to close, which it does when the handshake times out.
                    listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance, HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
                }
            }));
        byte[] hello = ClientHelloCorpus.Read("curl-tls13.bin");
        await RawHttp.SendAsync(app.EndPoint, hello, Timeout, tolerateReset: true);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        // A real ClientHello with a plaintext POST right behind it, in one SYN.
        var exchange = await RawHttp.SendAsync(app.EndPoint, [.. hello, .. RawHttp.Post("/transfer")], Timeout, tolerateReset: true);

        // The guard calls it a ClientHello, as designed (what follows a whole hello is not inspected: with TLS early data
        // it is records), and lets the kernel take it in the SYN. What keeps the POST from running is that nothing reads plaintext
        // behind a hello: TLS takes it for a broken record, an HTTP parser stops at the hello. The exchange ends when
        // the server has closed the connection, so whatever would have run has run.
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.connections", ("kestreltfo.early_data.kind", "tls_client_hello")));
        Assert.DoesNotContain("200 OK", exchange.Response, StringComparison.Ordinal);
        Assert.Empty(app.Services.GetRequiredService<RequestLedger>().Transfers);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    public async Task An_HTTP2_cleartext_preface_with_a_POSTs_HEADERS_in_a_SYN_is_flagged_or_kept_out_of_the_SYN(string policy)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy },
            listen: o => o.Listen(Loopback.NextAddress(), 0, listen => listen.Protocols = HttpProtocols.Http2));
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        // HTTP/2 keeps the connection open, so each exchange ends when the app has run the POST, not when the server closes.
        using (await RawFastOpen.ConnectAndSendAsync(app.EndPoint, s_h2cPost, Timeout))
        {
            Assert.True(await ledger.WaitForTransfersAsync(1, TimeSpan.FromSeconds(15), Timeout), "the cookie connection's POST did not run");
        }

        using var client = await RawFastOpen.ConnectAndSendAsync(app.EndPoint, s_h2cPost, Timeout);
        Assert.True(await ledger.WaitForTransfersAsync(2, TimeSpan.FromSeconds(15), Timeout), "the POST did not run");

        // Whatever the server sent first (its SETTINGS) has come, so the handshake is over and TCP_INFO knows about the SYN.
        Assert.True(await client.ReceiveAsync(new byte[64], System.Net.Sockets.SocketFlags.None, Timeout) > 0);
        var acknowledged = KestrelTfo.Platform.TcpConnectionInfo.Read(client).ReceivedSynData;
        var run = ledger.Transfers[1];
        Assert.True(run.IsFastOpen);
        if (policy == "Flag")
        {
            Assert.True(acknowledged);
            Assert.Equal((EarlyDataKind.Http2Preface, s_h2cPost.Length, EarlyDataAction.Flagged), (run.EarlyDataKind, run.EarlyDataLength, run.EarlyDataAction));
        }
        else
        {
            Assert.False(acknowledged, "the kernel took an HTTP/2 preface and HEADERS in the SYN under Defer");
            Assert.Equal((EarlyDataKind.None, 0, EarlyDataAction.Deferred), (run.EarlyDataKind, run.EarlyDataLength, run.EarlyDataAction));
            Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "kernel_deferred")));
        }
    }

    // The client preface, an empty SETTINGS frame, and a HEADERS frame (END_STREAM | END_HEADERS, stream 1) whose HPACK
    // block is :method POST, :scheme http (static table), :path /transfer and :authority test (literals).
    private static readonly byte[] s_h2cPost =
    [
        .. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8,
        0, 0, 0, 0x04, 0, 0, 0, 0, 0,
        0, 0, 19, 0x01, 0x05, 0, 0, 0, 1,
        0x83, 0x86, 0x44, 9, .. "/transfer"u8, 0x41, 4, .. "test"u8,
    ];
}
