using System.Net;
using System.Runtime.Versioning;
using System.Security.Authentication;
using KestrelTfo.Client;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// HttpClient with <see cref="FastOpenHttpsHandler"/> against a server nobody here wrote: nginx with
/// <c>ssl_early_data on</c>, whose own log (<c>$ssl_early_data</c>) says what it read as early data. Over an emulated
/// link whose way back to the client is slow (<see cref="LinkEnvironment.StartSlowTowardClient"/>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NginxClientTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task The_second_connections_GET_goes_as_early_data_and_a_POST_never_does()
    {
        using var link = LinkEnvironment.StartSlowTowardClient();
        await using var nginx = await NginxServer.StartAsync(link.ServerAddress, TestCertificate.Instance, earlyData: true, cancellationToken: Timeout);
        using var client = new EarlyDataHttpClient(createSocket: _ => link.CreateClientSocket());

        // nginx's OpenSSL gives two tickets per full handshake, one for each of the next two connections (and none on a
        // connection it closes before the client's Finished, as after answering early data with Connection: close).
        var first = await client.SendOnNewConnectionAsync(HttpMethod.Get, new Uri(nginx.Url, "/first"));
        Assert.True(await client.WaitForSessionsAsync(2));
        var early = await client.SendOnNewConnectionAsync(HttpMethod.Get, new Uri(nginx.Url, "/early"));
        var post = await client.SendOnNewConnectionAsync(HttpMethod.Post, new Uri(nginx.Url, "/post"), new StringContent("amount=1000"));
        var requests = await nginx.ReadAccessLogAsync(atLeast: 3, Timeout);

        Assert.Equal(["GET ", "GET 1", "POST "], [first.TrimEnd('\n'), early.TrimEnd('\n'), post.TrimEnd('\n')]);
        Assert.Equal(
            [("GET", "/first", false, false), ("GET", "/early", true, true), ("POST", "/post", false, true)],
            requests.Select(r => (r.Method, r.Target, r.EarlyData, r.SessionReused)));
        Assert.Equal(1, client.EarlyData("accepted"));
        Assert.Equal(1, client.EarlyData("not_safe"));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Early_data_a_restarted_nginx_cannot_read_is_sent_again_after_the_handshake_once()
    {
        using var link = LinkEnvironment.StartSlowTowardClient();
        using var client = new EarlyDataHttpClient(createSocket: _ => link.CreateClientSocket());
        int port;
        await using (var before = await NginxServer.StartAsync(link.ServerAddress, TestCertificate.Instance, earlyData: true, cancellationToken: Timeout))
        {
            await client.SendOnNewConnectionAsync(HttpMethod.Get, new Uri(before.Url, "/first"));
            Assert.True(await client.WaitForSessionsAsync(1));
            port = before.EndPoint.Port;
        }

        // A new nginx has new ticket keys: the ticket does not resume, and the early data in its flight is never read.
        await using var after = await NginxServer.StartAsync(link.ServerAddress, TestCertificate.Instance, earlyData: true, port: port, cancellationToken: Timeout);
        var answer = await client.SendOnNewConnectionAsync(HttpMethod.Get, new Uri(after.Url, "/again"));
        var requests = await after.ReadAccessLogAsync(atLeast: 1, Timeout);

        Assert.Equal("GET ", answer.TrimEnd('\n'));
        Assert.Equal([("GET", "/again", false, false)], requests.Select(r => (r.Method, r.Target, r.EarlyData, r.SessionReused)));
        Assert.Equal(1, client.EarlyData("declined"));
        Assert.Equal(1, client.Metrics.Sum("kestreltfo.client.tls.early_data.resent"));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task An_untrusted_certificate_fails_as_SslStream_fails_it()
    {
        using var link = LinkEnvironment.StartSlowTowardClient();
        await using var nginx = await NginxServer.StartAsync(link.ServerAddress, TestCertificate.Instance, earlyData: true, cancellationToken: Timeout);
        using var plain = new SocketsHttpHandler { UseProxy = false };
        plain.UseFastOpen(options => options.CreateSocket = _ => link.CreateClientSocket());
        using var plainClient = new HttpClient(plain);
        using var client = new EarlyDataHttpClient(handler => handler.SslOptions.RemoteCertificateValidationCallback = null, createSocket: _ => link.CreateClientSocket());

        var expected = await Assert.ThrowsAsync<HttpRequestException>(() => plainClient.GetAsync(nginx.Url, Timeout));
        var actual = await Assert.ThrowsAsync<HttpRequestException>(() => client.Client.GetAsync(nginx.Url, Timeout));

        Assert.Equal((HttpRequestError.SecureConnectionError, expected.Message), (actual.HttpRequestError, actual.Message));
        Assert.Equal(expected.InnerException!.Message, Assert.IsType<AuthenticationException>(actual.InnerException).Message);
        Assert.Empty(await nginx.ReadAccessLogAsync(atLeast: 0, Timeout));
    }
}
