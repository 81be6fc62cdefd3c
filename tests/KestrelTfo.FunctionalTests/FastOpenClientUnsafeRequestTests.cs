using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// Requests through <c>UseFastOpen</c> whose first bytes must not be repeated, tried against a server that holds this
/// client's cookie: none of their bytes may ride in a SYN, which the server's guard would count as early data.
/// </summary>
public sealed class FastOpenClientUnsafeRequestTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    // The HTTP/2 connection preface and an empty SETTINGS frame: what an h2c client with prior knowledge writes first.
    private static readonly byte[] s_h2Preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];

    [Fact(Timeout = Limits.Test)]
    public async Task An_HTTP2_prior_knowledge_request_never_rides_in_a_SYN_though_the_cookie_is_there()
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        // HTTP/2 only: Kestrel answers prior knowledge on a cleartext HTTP/1.1 and HTTP/2 endpoint with HTTP_1_1_REQUIRED.
        await using var app = new KestrelAppFactory<Program>(
            listen: o => o.Listen(Loopback.NextAddress(), 0, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        // This machine's cookie for the server, fetched by a plain TFO client (the first connection to an address only
        // asks for one): the handler then has a cookie to use, whether or not its own connections ask for one.
        using (var cookie = await RawFastOpen.ConnectAndSendAsync(app.EndPoint, s_h2Preface, Timeout))
        {
            Assert.True(await cookie.ReceiveAsync(new byte[64], System.Net.Sockets.SocketFlags.None, Timeout) > 0);
        }

        using var log = new ClientLog();
        for (var i = 0; i < 2; i++)
        {
            // A handler each time, so each request opens a new connection and writes the preface first.
            using var client = new HttpClient(FastOpenHttp.Handler(log));
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{app.EndPoint}/tfo"))
            {
                Version = System.Net.HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await client.SendAsync(request, Timeout);
            response.EnsureSuccessStatusCode();
            Assert.Equal(System.Net.HttpVersion.Version20, response.Version);
        }

        Assert.Equal(["Normal", "Normal"], log.Connections);
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.connections"));

        // The cookie was there all along: the same bytes from a plain TFO client ride in its SYN.
        using (var control = await RawFastOpen.ConnectAndSendAsync(app.EndPoint, s_h2Preface, Timeout))
        {
            Assert.True(await control.ReceiveAsync(new byte[64], System.Net.Sockets.SocketFlags.None, Timeout) > 0);
        }

        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.connections"));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("get-with-a-body")]
    [InlineData("expect-100-continue")]
    [InlineData("websocket")]
    public async Task An_unsafe_first_request_waits_for_the_handshake_while_a_safe_GET_rides_in_the_SYN(string request)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        await FastOpenHttp.ReportAsync(server, log);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        using (var client = new HttpClient(FastOpenHttp.Handler(log)))
        {
            switch (request)
            {
                case "get-with-a-body":
                    using (var get = new HttpRequestMessage(HttpMethod.Get, new Uri(server, "/tfo")) { Content = new StringContent("a body") })
                    {
                        (await client.SendAsync(get, Timeout)).Dispose();
                    }

                    break;
                case "expect-100-continue":
                    using (var expecting = new HttpRequestMessage(HttpMethod.Get, new Uri(server, "/tfo")) { Content = new StringContent("a body") })
                    {
                        expecting.Headers.ExpectContinue = true;
                        (await client.SendAsync(expecting, Timeout)).Dispose();
                    }

                    break;
                default:
                    // The test app has no WebSocket endpoint, so the upgrade is refused; what matters is its first bytes.
                    using (var socket = new ClientWebSocket())
                    {
                        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{app.EndPoint}/tfo"), client, Timeout));
                    }

                    break;
            }
        }

        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.connections"));

        // The cookie was there all along: a safe GET right after rides in its SYN.
        var control = await FastOpenHttp.ReportAsync(server, log);
        Assert.True(control.Report.IsFastOpen, "no GET rode in a SYN, so the test proves nothing");
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.connections"));
    }
}
