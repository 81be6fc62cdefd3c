using System.Net;
using System.Net.Sockets;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests;

/// <summary>The TFO HttpClient handler against real Kestrel with UseFastOpenTransport, over loopback with real TFO.</summary>
public sealed class FastOpenClientTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    public static TheoryData<string> HttpVersions => ["1.1", "2.0"];

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(HttpVersions))]
    public async Task Https_second_connection_sends_its_ClientHello_in_the_SYN(string version)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextAddress();
        await using var app = new KestrelAppFactory<Program>(listen: FastOpenHttp.Listen(address, https: true));
        var server = new Uri($"https://{app.EndPoint}");
        using var log = new ClientLog();

        var cookieRequest = await FastOpenHttp.ReportAsync(server, log, version: Version.Parse(version));
        var fastOpen = await FastOpenHttp.ReportAsync(server, log, version: Version.Parse(version));

        Assert.Equal(Version.Parse(version), cookieRequest.Version);
        Assert.Equal(Version.Parse(version), fastOpen.Version);
        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), cookieRequest.Report);
        Assert.True(fastOpen.Report.IsFastOpen);
        Assert.True(fastOpen.Report.EarlyDataLength > 0, $"the server saw {fastOpen.Report.EarlyDataLength} bytes of early data");
        Assert.Equal(EarlyDataKind.TlsClientHello, fastOpen.Report.EarlyDataKind);
        Assert.Equal(["CookieRequested", "DataAccepted"], log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Plaintext_GET_rides_in_the_SYN_and_POST_does_not()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();

        var cookieRequest = await FastOpenHttp.ReportAsync(server, log);
        var get = await FastOpenHttp.ReportAsync(server, log);
        var post = await FastOpenHttp.ReportAsync(server, log, HttpMethod.Post);
        var getAgain = await FastOpenHttp.ReportAsync(server, log);

        Assert.False(cookieRequest.Report.IsFastOpen);
        Assert.True(get.Report.IsFastOpen);
        Assert.True(get.Report.EarlyDataLength > 0);
        Assert.Equal((EarlyDataKind.HttpRequest, "GET"), (get.Report.EarlyDataKind, get.Report.EarlyDataMethod));

        // The cookie was there (the GETs on either side used it), yet the POST waited for the handshake.
        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), post.Report);
        Assert.True(getAgain.Report.IsFastOpen);
        Assert.Equal(["CookieRequested", "DataAccepted", "Normal", "DataAccepted"], log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Plaintext_GET_waits_for_the_handshake_when_safe_requests_are_off()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        _ = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);

        var get = await FastOpenHttp.ReportAsync(server, log, configure: o => o.SafePlaintextRequests = false);
        var raw = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);

        Assert.False(get.Report.IsFastOpen);
        Assert.Contains("\"isFastOpen\":true", raw.Body, StringComparison.Ordinal);
        Assert.Equal(["Normal"], log.Connections);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Requests_work_against_Kestrels_default_transport_that_ignores_the_data_in_the_SYN(bool https)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextAddress();
        using var log = new ClientLog();
        await using (var tfoServer = new KestrelAppFactory<Program>(listen: FastOpenHttp.Listen(address, https)))
        {
            // Linux keeps TFO cookies per server address, so the plain server below inherits this one.
            var server = new Uri($"{(https ? "https" : "http")}://{tfoServer.EndPoint}");
            await FastOpenHttp.ReportAsync(server, log);
            Assert.True((await FastOpenHttp.ReportAsync(server, log)).Report.IsFastOpen);
        }

        await using var plain = await PlainKestrel.StartAsync(address, https, Timeout);
        var report = await FastOpenHttp.ReportAsync(plain.BaseAddress, log);

        Assert.Equal(new FastOpenReport(HasFeature: false, IsFastOpen: false, EarlyDataLength: 0), report.Report);
        Assert.Equal(["CookieRequested", "DataAccepted", "DataNotAccepted"], log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_refused_address_is_skipped_for_the_next_one()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var live = app.EndPoint;
        var refused = Loopback.NextAddress();
        await FetchCookieAsync(refused);
        using var log = new ClientLog();
        var dialer = new FastOpenDialer(new FastOpenConnectOptions(), log.Factory.CreateLogger(FastOpenClientLog.Category), FastOpenClientSocket.PlatformMethod);

        // With a cookie for the refused address, its connect returns at once and the refusal comes after the SYN
        // with data: the dialer must still notice it and move on.
        using var socket = await dialer.ConnectAsync([refused, live.Address], live.Port, RawHttp.Request("/tfo"), Timeout);
        var response = await ReadToEndAsync(socket);

        Assert.Equal(live, socket.RemoteEndPoint);
        Assert.Equal(200, response.StatusCode);
        var failure = Assert.Single(log.WithEvent(nameof(FastOpenClientLog.ConnectAttemptFailed)));
        Assert.Contains($"{refused}:{live.Port} (ConnectionRefused); 1 more", failure.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("http")]
    [InlineData("https")]
    public async Task A_refused_connection_fails_with_a_ConnectionError_as_with_SocketsHttpHandlers_own_connect(string scheme)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var refused = Loopback.NextAddress();
        await FetchCookieAsync(refused);
        var uri = new Uri($"{scheme}://{refused}:{IPEndPoint.MaxPort - 1}/tfo");
        using var log = new ClientLog();

        using var plainClient = new HttpClient(FastOpenHttp.Handler(log: null));
        var expected = await Assert.ThrowsAsync<HttpRequestException>(() => plainClient.GetAsync(uri, Timeout));
        using var fastOpenClient = new HttpClient(FastOpenHttp.Handler(log));
        var actual = await Assert.ThrowsAsync<HttpRequestException>(() => fastOpenClient.GetAsync(uri, Timeout));

        // Over HTTPS the connect happens inside the TLS handshake, and SocketsHttpHandler wraps whatever fails there
        // in a SecureConnectionError: the ConnectionError is its inner exception.
        Assert.Equal(HttpRequestError.ConnectionError, expected.HttpRequestError);
        var connectError = scheme == "https" ? Assert.IsType<HttpRequestException>(actual.InnerException) : actual;
        Assert.Equal(scheme == "https" ? HttpRequestError.SecureConnectionError : HttpRequestError.ConnectionError, actual.HttpRequestError);
        Assert.Equal(HttpRequestError.ConnectionError, connectError.HttpRequestError);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(connectError.InnerException).SocketErrorCode);
        Assert.Single(log.WithEvent(nameof(FastOpenClientLog.ConnectAttemptFailed)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Dotnets_connect_with_a_buffer_also_sends_the_request_in_the_SYN()
    {
        // The route macOS and Windows take; on Linux .NET turns it into TCP_FASTOPEN_CONNECT, so it runs here too.
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        using var log = new ClientLog();
        var connector = new FastOpenConnector(new FastOpenConnectOptions(), log.Factory, FastOpenConnectMethod.ConnectWithData);

        var reports = new List<FastOpenReport>();
        for (var i = 0; i < 2; i++)
        {
            await using var stream = await connector.ConnectAsync(new DnsEndPoint(app.EndPoint.Address.ToString(), app.EndPoint.Port), Timeout);
            await stream.WriteAsync(RawHttp.Request("/tfo"), Timeout);
            using var reader = new StreamReader(stream);
            reports.Add(RawResponse.Parse(await reader.ReadToEndAsync(Timeout)).Report());
        }

        Assert.Equal(
            [
                new FastOpenReport(true, false, 0),
                new FastOpenReport(true, true, RawHttp.Request("/tfo").Length, EarlyDataKind.HttpRequest, "GET", EarlyDataAction.Flagged),
            ],
            reports);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_read_before_the_first_write_waits_for_it()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var connector = new FastOpenConnector();
        _ = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);

        await using var stream = await connector.ConnectAsync(new DnsEndPoint(app.EndPoint.Address.ToString(), app.EndPoint.Port), Timeout);
        var buffer = new byte[4096];
        var read = stream.ReadAsync(buffer, Timeout).AsTask();
        Assert.False(read.IsCompleted);
        await stream.WriteAsync(RawHttp.Request("/tfo"), Timeout);
        using var received = new MemoryStream();
        for (var n = await read; n > 0; n = await stream.ReadAsync(buffer, Timeout))
        {
            received.Write(buffer, 0, n);
        }

        // The read did not open the connection without data: the request still rode in the SYN.
        Assert.True(RawResponse.Parse(System.Text.Encoding.ASCII.GetString(received.ToArray())).Report().IsFastOpen);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Sockets_come_from_CreateSocket_when_it_is_set()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        var source = Loopback.NextAddress();
        var created = new List<Socket>();
        using var log = new ClientLog();

        Socket Create(IPEndPoint endPoint)
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(source, 0));
            created.Add(socket);
            return socket;
        }

        var first = await FastOpenHttp.ReportAsync(server, log, configure: o => o.CreateSocket = Create);
        var second = await FastOpenHttp.ReportAsync(server, log, configure: o => o.CreateSocket = Create);

        Assert.Equal(2, created.Count);
        Assert.All(created, socket => Assert.True(socket.SafeHandle.IsClosed));
        Assert.False(first.Report.IsFastOpen);
        Assert.True(second.Report.IsFastOpen);
        Assert.Equal(["CookieRequested", "DataAccepted"], log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Synchronous_sends_use_TFO_too()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        using var log = new ClientLog();

        var reports = new List<FastOpenReport>();
        for (var i = 0; i < 2; i++)
        {
            using var client = new HttpClient(FastOpenHttp.Handler(log));
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{app.EndPoint}/tfo"));
            using var response = client.Send(request, Timeout);
            reports.Add(System.Text.Json.JsonSerializer.Deserialize<FastOpenReport>(response.Content.ReadAsStream(Timeout), System.Text.Json.JsonSerializerOptions.Web)!);
        }

        Assert.Equal([false, true], reports.Select(r => r.IsFastOpen));
        Assert.Equal(["CookieRequested", "DataAccepted"], log.Connections);
    }

    private static async Task FetchCookieAsync(IPAddress address)
    {
        using var listener = RawFastOpen.Listen(address);
        await RawFastOpen.EchoAsync(listener, "x"u8.ToArray(), Timeout);
    }

    private static async Task<RawResponse> ReadToEndAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream);
        return RawResponse.Parse(await reader.ReadToEndAsync(Timeout));
    }
}
