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

    [Theory(Timeout = Limits.Test)]
    [InlineData("get-with-a-body")]
    [InlineData("expect-100-continue")]
    [InlineData("websocket")]
    [InlineData("http2-prior-knowledge")]
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
                case "http2-prior-knowledge":
                    // The connection preface and SETTINGS come first, and a server takes a request on the connection
                    // after them: a repeated SYN would open it again.
                    using (var h2 = new HttpRequestMessage(HttpMethod.Get, new Uri(server, "/tfo"))
                    {
                        Version = System.Net.HttpVersion.Version20,
                        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    })
                    using (var response = await client.SendAsync(h2, Timeout))
                    {
                        // HTTP/2 indeed: a fall back to HTTP/1.1 would be a plain GET, which may ride in the SYN.
                        Assert.Equal(System.Net.HttpVersion.Version20, response.Version);
                        response.EnsureSuccessStatusCode();
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
