using System.Net;
using System.Net.Http.Json;
using KestrelTfo.Client;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>HttpClient plumbing for the client tests: handlers that trust the test certificate, and one request per connection.</summary>
internal static class FastOpenHttp
{
    /// <summary>A SocketsHttpHandler that trusts <see cref="TestCertificate"/>, with TCP Fast Open when <paramref name="log"/> is given.</summary>
    public static SocketsHttpHandler Handler(ClientLog? log, Action<FastOpenConnectOptions>? configure = null, TimeSpan? connectTimeout = null)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = connectTimeout ?? Timeout.InfiniteTimeSpan };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificate.IsTheOne(certificate);
        return log is null ? handler : handler.UseFastOpen(configure, log.Factory);
    }

    /// <summary>Listens on <paramref name="address"/> with HTTPS (HTTP/1.1 and HTTP/2) or plaintext.</summary>
    public static Action<KestrelServerOptions> Listen(IPAddress address, bool https) =>
        options => options.Listen(address, 0, listen =>
        {
            if (https)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(TestCertificate.Instance);
            }
        });

    /// <summary>
    /// Sends one request to the test app on a connection of its own (a new handler each time), a GET to <c>/tfo</c>
    /// or a POST to <c>/transfer</c>, and returns the HTTP version used and what the server saw of TCP Fast Open.
    /// </summary>
    public static async Task<(Version Version, FastOpenReport Report)> ReportAsync(
        Uri baseAddress, ClientLog? log, HttpMethod? method = null, Version? version = null, Action<FastOpenConnectOptions>? configure = null)
    {
        using var client = new HttpClient(Handler(log, configure));
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(baseAddress, method == HttpMethod.Post ? "/transfer" : "/tfo"))
        {
            Version = version ?? HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new StringContent("a body that must not ride in a SYN");
        }

        var cancellationToken = TestContext.Current.CancellationToken;
        using var response = await client.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (response.Version, (await response.Content.ReadFromJsonAsync<FastOpenReport>(cancellationToken))!);
    }
}
