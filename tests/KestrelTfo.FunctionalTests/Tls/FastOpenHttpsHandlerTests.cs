using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// HttpClient with early data: <see cref="FastOpenHttpsHandler"/> against the TLS layer with TLS 1.3 early data, checked
/// on the server's side (the early-data guard's report, the layer's metrics) and against what a plain
/// SocketsHttpHandler gives for the same requests: redirects, cookies, certificate failures.
/// </summary>
public sealed class FastOpenHttpsHandlerTests
{
    private const string ConnectionDuration = "kestrel.connection.duration";
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_returning_clients_GET_rides_as_early_data_connection_after_connection()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var server = OpenSslEndpoint.TlsMetrics(app);
        using var client = new EarlyDataHttpClient();
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/early-data");

        var answers = new List<string>();
        for (var connection = 1; connection <= 3; connection++)
        {
            answers.Add(await client.SendOnNewConnectionAsync(HttpMethod.Get, uri));

            // A ticket after a response from early data comes once the server has the client's Finished: the connection
            // the handler closed reads on for it, then lets go of its socket.
            Assert.True(await Bounded.UntilAsync(() => TcpTable.CountOpenTo(app.EndPoint) == 0, s_limit, Timeout));
        }

        // On loopback the client's Finished is there before the app reads the request, so the guard may call it no early
        // data (it no longer can be a replay); the layer's count says what came as early data.
        Assert.Equal("none", answers[0]);
        Assert.Equal(2, server.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
        Assert.Equal(2, client.EarlyData("accepted"));
        Assert.Equal(1, client.EarlyData("no_session"));
        Assert.Equal(["CookieRequested", "DataAccepted", "DataAccepted"], client.Log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_POST_and_a_request_a_proxy_took_as_early_data_never_go_early()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var server = OpenSslEndpoint.TlsMetrics(app);
        using var client = new EarlyDataHttpClient();
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/early-data");
        await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);
        Assert.True(await server.WaitUntilAsync(m => m.Count(ConnectionDuration) == 1, s_limit, Timeout));

        var post = await client.SendOnNewConnectionAsync(HttpMethod.Post, uri, new StringContent("amount=1000"));
        Assert.True(await server.WaitUntilAsync(m => m.Count(ConnectionDuration) == 2, s_limit, Timeout));
        using var forwarded = new HttpRequestMessage(HttpMethod.Get, uri);
        forwarded.Headers.ConnectionClose = true;
        forwarded.Headers.Add("Early-Data", "1");
        using var response = await client.Client.SendAsync(forwarded, Timeout);

        Assert.Equal("none", post);
        // The server knows it only from the field: the request came after the handshake, no TLS early data.
        Assert.StartsWith("early RunAtOnce proxy=True", await response.Content.ReadAsStringAsync(Timeout), StringComparison.Ordinal);
        Assert.Equal(0, server.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
        Assert.Equal(2, client.EarlyData("not_safe"));
        Assert.Equal(0, client.EarlyData("accepted"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Early_data_a_restarted_instance_declines_is_sent_again_after_the_handshake_once()
    {
        using var client = new EarlyDataHttpClient();
        IPEndPoint endPoint;
        await using (var before = OpenSslEndpoint.StartEarlyData(earlyData: true, ticketKey: TestKeys.TicketA))
        {
            using var metrics = OpenSslEndpoint.TlsMetrics(before);
            await client.SendOnNewConnectionAsync(HttpMethod.Get, new Uri(OpenSslEndpoint.BaseAddress(before), "/visit"));
            Assert.True(await metrics.WaitUntilAsync(m => m.Count(ConnectionDuration) == 1, s_limit, Timeout));
            endPoint = before.EndPoint;
        }

        // Same keys, so the ticket resumes; within its replay window after the start, the instance declines early data.
        await using var after = OpenSslEndpoint.StartEarlyData(earlyData: true, at: endPoint, ticketKey: TestKeys.TicketA);
        using var afterMetrics = OpenSslEndpoint.TlsMetrics(after);
        var answer = await client.SendOnNewConnectionAsync(HttpMethod.Get, new Uri(OpenSslEndpoint.BaseAddress(after), "/visit"));

        Assert.Equal("visited", answer);
        Assert.Equal(1, after.Services.GetRequiredService<RequestLedger>().Visits);
        Assert.Equal(1, afterMetrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "restart_window")));
        Assert.Equal(1, client.EarlyData("declined"));
        Assert.Equal(1, client.Metrics.Sum("kestreltfo.client.tls.early_data.resent"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_handler_keeps_at_most_TlsSessionCacheSize_sessions()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var client = new EarlyDataHttpClient(sessionCacheSize: 2);
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/visit");

        // Four connections at once, each a full handshake with a ticket of its own.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.SendOnNewConnectionAsync(HttpMethod.Get, uri)));
        Assert.True(await Bounded.UntilAsync(() => TcpTable.CountOpenTo(app.EndPoint) == 0, s_limit, Timeout));

        Assert.Equal(4, app.Services.GetRequiredService<RequestLedger>().Visits);
        Assert.Equal(2, client.Handler.StoredSessions);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastOpenConnector(new FastOpenConnectOptions { TlsSessionCacheSize = 0 }));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Requests_it_does_not_take_keep_the_handlers_own_TLS()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var client = new EarlyDataHttpClient();
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/tls");

        using var http2 = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var http2Response = await client.Client.SendAsync(http2, Timeout);
        var report = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<TlsReport>(http2Response.Content, Timeout);

        Assert.Equal(HttpVersion.Version20, http2Response.Version);
        Assert.Equal("h2", report!.ApplicationProtocol);
        Assert.Equal(0, client.Metrics.Count("kestreltfo.client.tls.early_data"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Off_nothing_changes()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var server = OpenSslEndpoint.TlsMetrics(app);
        using var client = new EarlyDataHttpClient(tlsEarlyData: false);
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/early-data");

        await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);
        Assert.True(await server.WaitUntilAsync(m => m.Count(ConnectionDuration) == 1, s_limit, Timeout));
        var second = await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);

        Assert.Equal("none", second);
        Assert.Equal(0, server.Sum(TlsEarlyDataMetrics.InstrumentName));
        Assert.Equal(0, client.Metrics.Count("kestreltfo.client.tls.early_data"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_request_through_a_proxy_keeps_the_handlers_TLS_and_asks_the_proxy_for_a_tunnel()
    {
        using var proxy = new TcpListener(Loopback.NextAddress(), 0);
        proxy.Start();
        using var client = new EarlyDataHttpClient(handler => handler.Proxy = new WebProxy($"http://{proxy.LocalEndpoint}"));
        var target = new Uri($"https://{Loopback.NextAddress()}:443/early-data");

        var sent = client.Client.GetAsync(target, Timeout);
        using (var tunnel = await proxy.AcceptTcpClientAsync(Timeout))
        {
            var stream = tunnel.GetStream();
            using var reader = new StreamReader(stream);
            Assert.Equal($"CONNECT {target.Host}:{target.Port} HTTP/1.1", await reader.ReadLineAsync(Timeout));
            await stream.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), Timeout);
        }

        await Assert.ThrowsAsync<HttpRequestException>(() => sent);
    }

    public static TheoryData<string, string, string?> Redirects => new()
    {
        // method, path (with the redirect's target; {base} is the server's https origin, {plain} an http one), Authorization
        { "GET", "/redirect?to=/echo", null },
        { "GET", "/redirect?to=/echo%23kept&status=301", null },
        { "POST", "/redirect?to=/echo&status=302", "Bearer token" },
        { "POST", "/redirect?to=/echo&status=307", "Bearer token" },
        { "POST", "/redirect?to=/echo&status=303", null },
        { "GET", "/redirect?to={plain}/echo", null },
        { "GET", "/redirect?to=/redirect%3Fto%3D/echo", null },
        { "GET", "/echo", "Bearer token" },
    };

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(Redirects))]
    public async Task Redirects_are_followed_as_SocketsHttpHandler_follows_them(string method, string path, string? authorization)
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        var origin = OpenSslEndpoint.BaseAddress(app);
        var uri = new Uri(origin, path.Replace("{plain}", $"http://{app.EndPoint}", StringComparison.Ordinal));
        using var client = new EarlyDataHttpClient(handler => handler.MaxAutomaticRedirections = 1);
        using var plain = FastOpenHttp.Handler(log: null);
        plain.MaxAutomaticRedirections = 1;
        using var plainClient = new HttpClient(plain);

        var expected = await OutcomeAsync(plainClient, method, uri, authorization);
        var actual = await OutcomeAsync(client.Client, method, uri, authorization);

        Assert.Equal(expected, actual);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_secure_cookie_set_over_https_is_sent_back_over_https()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var client = new EarlyDataHttpClient();
        var origin = OpenSslEndpoint.BaseAddress(app);

        await client.Client.GetStringAsync(new Uri(origin, "/secure-cookie"), Timeout);
        var echo = await client.Client.GetStringAsync(new Uri(origin, "/echo"), Timeout);

        Assert.Contains("cookie=session=s3cret", echo, StringComparison.Ordinal);
        Assert.Single(client.Inner.CookieContainer.GetCookies(origin));
    }

    public static TheoryData<string> CertificateChecks => ["untrusted", "callback refuses", "custom root, name mismatch", "expired", "revocation unknown"];

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(CertificateChecks))]
    public async Task A_certificate_check_sees_and_fails_as_SslStreams_does(string check)
    {
        var (serverCertificate, configure) = CertificateCase(check);
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true, certificate: serverCertificate);
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/tls");
        var seenByPlain = new List<SslPolicyErrors>();
        var seenByOwn = new List<SslPolicyErrors>();
        using var plain = new SocketsHttpHandler();
        configure(plain, seenByPlain);
        using var plainClient = new HttpClient(plain);
        using var client = new EarlyDataHttpClient(handler => configure(handler, seenByOwn));

        var expected = await Assert.ThrowsAsync<HttpRequestException>(() => plainClient.GetAsync(uri, Timeout));
        var actual = await Assert.ThrowsAsync<HttpRequestException>(() => client.Client.GetAsync(uri, Timeout));

        Assert.Equal(HttpRequestError.SecureConnectionError, expected.HttpRequestError);
        Assert.Equal(expected.HttpRequestError, actual.HttpRequestError);
        Assert.Equal(expected.Message, actual.Message);
        Assert.IsType<AuthenticationException>(expected.InnerException);
        Assert.IsType<AuthenticationException>(actual.InnerException);
        Assert.Equal(seenByPlain, seenByOwn);
        Assert.Equal(expected.InnerException!.Message, actual.InnerException!.Message);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_callback_sees_every_connection_as_with_SslStream_also_a_resumed_one()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/visit");
        var plainChecks = 0;
        var ownChecks = 0;
        using var plain = new SocketsHttpHandler();
        plain.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => Interlocked.Increment(ref plainChecks) > 0 && TestCertificate.IsTheOne(certificate);
        using var plainClient = new HttpClient(plain);
        using var client = new EarlyDataHttpClient(handler => handler.SslOptions.RemoteCertificateValidationCallback =
            (_, certificate, _, _) => Interlocked.Increment(ref ownChecks) > 0 && TestCertificate.IsTheOne(certificate));

        for (var connection = 1; connection <= 3; connection++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.ConnectionClose = true;
            (await plainClient.SendAsync(request, Timeout)).Dispose();
            await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);
            Assert.True(await client.WaitForSessionsAsync(1));
        }

        Assert.Equal(3, plainChecks);
        Assert.Equal(plainChecks, ownChecks);
        Assert.Equal(2, client.EarlyData("accepted"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_a_callback_a_trusted_chain_resumes_and_its_GET_goes_early()
    {
        // No callback and no revocation check: a resumed connection's certificates are checked for their dates only.
        var address = Loopback.NextAddress();
        var now = DateTimeOffset.UtcNow;
        using var authority = TestCertificate.Make("CN=KestrelTfo test authority", now.AddDays(-1), now.AddDays(1), authority: true);
        using var leaf = TestCertificate.Make("CN=KestrelTfo test leaf", now.AddDays(-1), now.AddDays(1), issuer: authority, address: address);
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true, at: new IPEndPoint(address, 0), certificate: leaf);
        using var server = OpenSslEndpoint.TlsMetrics(app);
        using var client = new EarlyDataHttpClient(handler =>
        {
            handler.SslOptions.RemoteCertificateValidationCallback = null;
            handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { authority },
                RevocationMode = X509RevocationMode.NoCheck,
            };
        });
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/visit");

        await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);
        Assert.True(await client.WaitForSessionsAsync(1));
        await client.SendOnNewConnectionAsync(HttpMethod.Get, uri);

        Assert.Equal(1, client.EarlyData("accepted"));
        Assert.Equal(1, server.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_callback_that_throws_and_a_reset_during_the_handshake_fail_as_with_SslStream()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var resetting = new TcpListener(Loopback.NextAddress(), 0);
        resetting.Start();
        var resets = ResetEachAfterItsClientHelloAsync(resetting, connections: 2);
        var failure = new InvalidOperationException("the callback's own failure");
        using var plain = new SocketsHttpHandler();
        plain.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => throw failure;
        using var plainClient = new HttpClient(plain);
        using var client = new EarlyDataHttpClient(handler => handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => throw failure);
        var reset = new Uri($"https://{resetting.LocalEndpoint}/");

        var plainThrown = await Assert.ThrowsAsync<HttpRequestException>(() => plainClient.GetAsync(OpenSslEndpoint.BaseAddress(app), Timeout));
        var ownThrown = await Assert.ThrowsAsync<HttpRequestException>(() => client.Client.GetAsync(OpenSslEndpoint.BaseAddress(app), Timeout));
        var plainReset = await Assert.ThrowsAsync<HttpRequestException>(() => plainClient.GetAsync(reset, Timeout));
        var ownReset = await Assert.ThrowsAsync<HttpRequestException>(() => client.Client.GetAsync(reset, Timeout));
        await resets;

        Assert.Same(failure, plainThrown.InnerException);
        Assert.Same(failure, ownThrown.InnerException);
        Assert.Equal((plainThrown.HttpRequestError, plainThrown.Message), (ownThrown.HttpRequestError, ownThrown.Message));
        Assert.Equal(HttpRequestError.SecureConnectionError, plainReset.HttpRequestError);
        Assert.Equal((plainReset.HttpRequestError, plainReset.Message), (ownReset.HttpRequestError, ownReset.Message));
        Assert.IsType<IOException>(plainReset.InnerException);
        Assert.IsType<IOException>(ownReset.InnerException);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_handler_with_a_ConnectCallback_of_its_own_keeps_it_for_every_request()
    {
        // An egress guard: the client's own TLS must not go around it.
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        var guard = new HttpRequestException("egress guard: not allowed");
        using var client = new EarlyDataHttpClient(handler => handler.ConnectCallback = (_, _) => throw guard);

        var thrown = await Assert.ThrowsAsync<HttpRequestException>(() => client.Client.GetAsync(OpenSslEndpoint.BaseAddress(app), Timeout));

        Assert.True(thrown == guard || thrown.InnerException == guard, thrown.ToString());
        Assert.Equal(0, app.Services.GetRequiredService<RequestLedger>().Visits);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_IPv6_origin_goes_over_the_clients_own_TLS_and_the_request_keeps_its_URI()
    {
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true, at: new IPEndPoint(Loopback.NextIPv6Address(), 0));
        using var server = OpenSslEndpoint.TlsMetrics(app);
        using var client = new EarlyDataHttpClient();
        var uri = new Uri($"https://{app.EndPoint}/echo");

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await client.Client.SendAsync(request, Timeout);
        var echo = await response.Content.ReadAsStringAsync(Timeout);

        Assert.Equal(uri, request.RequestUri);
        Assert.Contains($"host={app.EndPoint}", echo, StringComparison.Ordinal);
        Assert.Equal(1, client.EarlyData("no_session"));
    }

    [Fact(Timeout = Limits.Test)]
    public void UseFastOpen_with_TlsEarlyData_on_a_bare_handler_says_what_is_missing()
    {
        using var handler = new SocketsHttpHandler();

        var failure = Assert.Throws<InvalidOperationException>(() => handler.UseFastOpen(options => options.TlsEarlyData = true));

        Assert.Contains(nameof(FastOpenHttpsHandler), failure.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_IHttpClientFactory_registration_turns_it_on_with_one_option()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = OpenSslEndpoint.StartEarlyData(earlyData: true);
        using var server = OpenSslEndpoint.TlsMetrics(app);
        var services = new ServiceCollection();
        services.AddHttpClient("api")
            .UseFastOpen(options => options.TlsEarlyData = true)
            // Configured after UseFastOpen: the early-data handler still goes in front, around this handler.
            .UseSocketsHttpHandler((handler, _) => handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificate.IsTheOne(certificate));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        var uri = new Uri(OpenSslEndpoint.BaseAddress(app), "/early-data");

        var answers = new List<string>();
        for (var connection = 1; connection <= 2; connection++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.ConnectionClose = true;
            using var response = await client.SendAsync(request, Timeout);
            answers.Add(await response.Content.ReadAsStringAsync(Timeout));
            Assert.True(await server.WaitUntilAsync(m => m.Count(ConnectionDuration) == connection, s_limit, Timeout));
        }

        Assert.Equal("none", answers[0]);
        Assert.Equal(1, server.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
    }

    /// <summary>Accepts <paramref name="connections"/> connections and resets each once its first bytes (a ClientHello) came.</summary>
    private static async Task ResetEachAfterItsClientHelloAsync(TcpListener listener, int connections)
    {
        for (var i = 0; i < connections; i++)
        {
            using var accepted = await listener.AcceptSocketAsync(Timeout);
            await accepted.ReceiveAsync(new byte[4096], SocketFlags.None, Timeout);
            accepted.LingerState = new LingerOption(true, 0);
        }
    }

    /// <summary>The server's certificate for a case, and how a client is set up to check it (recording what its callback saw).</summary>
    private static (X509Certificate2 Server, Action<SocketsHttpHandler, List<SslPolicyErrors>> Configure) CertificateCase(string check)
    {
        var now = DateTimeOffset.UtcNow;
        void Recording(SocketsHttpHandler handler, List<SslPolicyErrors> seen) =>
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, errors) =>
            {
                seen.Add(errors);
                return errors == SslPolicyErrors.None;
            };

        void Trusting(SocketsHttpHandler handler, X509Certificate2 root, X509RevocationMode revocation = X509RevocationMode.NoCheck)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = null;
            handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { root },
                RevocationMode = revocation,
            };
        }

        switch (check)
        {
            case "callback refuses":
                return (TestCertificate.Instance, (handler, seen) => handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, errors) =>
                {
                    seen.Add(errors);
                    return false;
                });
            case "custom root, name mismatch":
                return (TestCertificate.Instance, (handler, seen) =>
                {
                    Trusting(handler, TestCertificate.Instance);
                    Recording(handler, seen);
                });
            case "expired":
                var expired = TestCertificate.Make("CN=expired", now.AddDays(-2), now.AddDays(-1));
                return (expired, (handler, _) => Trusting(handler, expired));
            case "revocation unknown":
                // Issued by an authority the client trusts, for the address it connects to, but with no way to learn
                // whether it was revoked, and the client asks.
                var authority = TestCertificate.Make("CN=KestrelTfo test authority", now.AddDays(-1), now.AddDays(1), authority: true);
                var leaf = TestCertificate.Make("CN=KestrelTfo test leaf", now.AddDays(-1), now.AddDays(1), issuer: authority);
                return (leaf, (handler, _) => Trusting(handler, authority, X509RevocationMode.Online));
            default:
                // The system's trust store, which holds no certificate a test made.
                return (TestCertificate.Instance, (handler, _) => handler.SslOptions.RemoteCertificateValidationCallback = null);
        }
    }

    /// <summary>What a caller sees of a request: the status, the final URI, and the body.</summary>
    private static async Task<string> OutcomeAsync(HttpClient client, string method, Uri uri, string? authorization)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (method == "POST")
        {
            request.Content = new StringContent("amount=1000");
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request, Timeout);
        var body = await response.Content.ReadAsStringAsync(Timeout);
        return $"{(int)response.StatusCode} {response.RequestMessage!.Method} {response.RequestMessage.RequestUri} {request.Headers.Authorization} {body}";
    }
}
