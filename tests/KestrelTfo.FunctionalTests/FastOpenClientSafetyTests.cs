using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// The client's promise, seen from the server: only exactly one message that is safe to repeat ever rides in a SYN,
/// through every public entry point, and the client's metrics say what became of each first write.
/// </summary>
public sealed class FastOpenClientSafetyTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_socket_factory_that_turns_TFO_on_gets_no_POST_into_a_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var server = new Uri($"http://{app.EndPoint}");
        using var log = new ClientLog();
        void FactoryThatTurnsTfoOn(FastOpenConnectOptions options) => options.CreateSocket = endPoint =>
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            FastOpenConnect.Set(socket, enabled: true);
            return socket;
        };

        await FastOpenHttp.ReportAsync(server, log, configure: FactoryThatTurnsTfoOn);
        var post = await FastOpenHttp.ReportAsync(server, log, HttpMethod.Post, configure: FactoryThatTurnsTfoOn);
        var get = await FastOpenHttp.ReportAsync(server, log, configure: FactoryThatTurnsTfoOn);

        Assert.Equal(new FastOpenReport(true, false, 0), post.Report);
        Assert.Equal(new FastOpenReport(true, false, 0), Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers));
        Assert.True(get.Report.IsFastOpen, "the cookie was there, and a GET used it");
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_connectors_stream_keeps_a_write_with_a_pipelined_POST_out_of_the_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var connector = new FastOpenConnector();
        var endPoint = new DnsEndPoint(app.EndPoint.Address.ToString(), app.EndPoint.Port);
        const string Get = "GET /tfo HTTP/1.1\r\nHost: a\r\n\r\n";
        const string Post = "POST /transfer HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\namount=1000";

        await ExchangeAsync(connector, endPoint, Get.Replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n", StringComparison.Ordinal));
        var alone = await ExchangeAsync(connector, endPoint, Get.Replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n", StringComparison.Ordinal));
        var pipelined = await ExchangeAsync(connector, endPoint, Get + Post);

        Assert.Contains("\"isFastOpen\":true", alone, StringComparison.Ordinal);
        Assert.Contains("\"isFastOpen\":false", pipelined, StringComparison.Ordinal);
        Assert.Equal(new FastOpenReport(true, false, 0), Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers));
    }

    [Theory(Timeout = Limits.LongTest)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_raced_connection_delivers_the_request_once_whichever_attempt_wins(bool synWithDataDropped)
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        // Every SYN-ACK comes 100 ms after its SYN. The race's clock is the test's: it stands still while the cookie
        // connection opens, and reaches the fallback delay once the SYN with data has reached the server, so that the
        // TCP Fast Open connection is established half a round trip before the plain one could be; or, when the link
        // drops that SYN, as soon as it has left, so that the plain connection wins long before the kernel sends the SYN
        // again without data.
        var options = new NetEmu.EmulatedLinkOptions().WithRoundTripTime(TimeSpan.FromMilliseconds(100));
        options.ToServer.DropSynWithData = synWithDataDropped;
        using var link = LinkEnvironment.Start(options);
        await using var app = new KestrelAppFactory<Program>(listen: o => o.Listen(link.ServerAddress, 0));
        using var kestrel = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), FastOpenMetrics.MeterName, "Microsoft.AspNetCore.Server.Kestrel");
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var client = new ClientMetrics(meters.GetRequiredService<IMeterFactory>());
        var time = new FakeTimeProvider();
        var fallbackDelay = TimeSpan.FromMinutes(5);
        using var attempts = new SemaphoreSlim(0);
        var connector = RacingConnector.Create(link, attempts, fallbackDelay, time, meters.GetRequiredService<IMeterFactory>());

        await VisitAsync(connector, app.EndPoint);

        // The cookie connection had one socket: its race never started.
        Assert.Equal(1, attempts.CurrentCount);
        Assert.True(attempts.Wait(0, Timeout));
        var visit = VisitAsync(connector, app.EndPoint);
        if (synWithDataDropped)
        {
            await attempts.WaitAsync(Timeout);
        }
        else
        {
            // A SYN with data is accepted on its arrival, before the handshake completes.
            Assert.True(
                await kestrel.WaitUntilAsync(m => m.Sum("kestreltfo.connections") == 2, TimeSpan.FromSeconds(15), Timeout),
                "the SYN with data did not reach the server");
        }

        time.Advance(fallbackDelay);
        await visit;

        // Every connection the server accepted has ended, the loser's too: whatever it could have sent has arrived.
        Assert.True(
            await kestrel.WaitUntilAsync(m => m.Sum("kestrel.connection.duration") == m.Sum("kestreltfo.connections"), TimeSpan.FromSeconds(15), Timeout),
            "a connection the server accepted is still open");
        Assert.Equal(2, app.Services.GetRequiredService<RequestLedger>().Visits);
        Assert.Equal(synWithDataDropped ? ["cookie_requested", "race_won_by_plain"] : ["cookie_requested", "syn_data_accepted"], client.Outcomes);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_client_metrics_say_what_became_of_each_first_write()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var flagging = new KestrelAppFactory<Program>();
        await using var deferring = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" });
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var client = new ClientMetrics(meters.GetRequiredService<IMeterFactory>());
        using var log = new ClientLog();
        var connector = new FastOpenConnector(new FastOpenConnectOptions(), log.Factory, meters.GetRequiredService<IMeterFactory>());
        var flaggingUri = new Uri($"http://{flagging.EndPoint}");
        var deferringUri = new Uri($"http://{deferring.EndPoint}");

        await ReportAsync(connector, flaggingUri, HttpMethod.Get);
        var accepted = await ReportAsync(connector, flaggingUri, HttpMethod.Get);
        await ReportAsync(connector, flaggingUri, HttpMethod.Post);
        await ReportAsync(connector, deferringUri, HttpMethod.Get);
        await ReportAsync(connector, deferringUri, HttpMethod.Get);

        Assert.Equal(["cookie_requested", "syn_data_accepted", "not_safe", "cookie_requested", "fallback"], client.Outcomes);
        Assert.All(client.Connections.Take(3), m => Assert.Equal((flagging.EndPoint.Address.ToString(), flagging.EndPoint.Port), ((string)m.Tags["server.address"]!, (int)m.Tags["server.port"]!)));

        // Bytes in SYNs: the accepted GET, which the server counted as its early data, and the refused one.
        var synBytes = client.Collector.Measurements.Where(m => m.Instrument == "kestreltfo.client.syn_data.bytes").ToList();
        Assert.Equal(["syn_data_accepted", "fallback"], synBytes.Select(m => (string)m.Tags["kestreltfo.client.outcome"]!));
        Assert.Equal(accepted.EarlyDataLength, synBytes[0].Value);
        Assert.Equal(5, client.Collector.Measurements.Count(m => m.Instrument == "kestreltfo.client.connect.duration" && m.Recorded > 0));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_retry_at_a_hosts_next_address_is_not_debounced_by_a_server_that_took_the_first_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // Two addresses of one host, the same port on each, as a name with an IPv6 and an IPv4 address has.
        var first = Loopback.NextAddress();
        var second = Loopback.NextAddress();
        using var held = Loopback.HoldPort();
        var port = ((IPEndPoint)held.LocalEndPoint!).Port;

        // The cookie exchanges below send a ClientHello and wait for the server to close, which it does when the TLS
        // handshake times out: a short timeout keeps that wait short (Kestrel's default is 10 s).
        var https = new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance, HandshakeTimeout = TimeSpan.FromMilliseconds(500) };
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:ClientHelloDebounceWindow"] = "00:01:00" },
            listen: o =>
            {
                o.Listen(first, port, listen => listen.UseHttps(https));
                o.Listen(second, port, listen => listen.UseHttps(https));
            });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        var hello = ClientHelloCorpus.Read("sslstream-tls13.bin");

        // Cookies for both addresses, so that either connection could carry the ClientHello in its SYN.
        foreach (var endPoint in app.EndPoints)
        {
            await RawHttp.SendAsync(endPoint, hello, Timeout, tolerateReset: true);
        }

        // The first address's server takes the SYN and its ClientHello, but every answer to this client is lost (a
        // filter on its own socket drops them), so the connect times out and the second address is tried.
        var options = new FastOpenConnectOptions
        {
            CreateSocket = endPoint =>
            {
                var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                if (endPoint.Address.Equals(first))
                {
                    SocketFilters.AttachDropAll(socket);
                    socket.SetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpSynCount, BitConverter.GetBytes(1));
                }

                return socket;
            },
        };
        using var log = new ClientLog();
        var dialer = new FastOpenDialer(options, log.Factory.CreateLogger(FastOpenClientLog.Category), FastOpenClientSocket.PlatformMethod);

        using var socket = await dialer.ConnectAsync([first, second], port, hello, Timeout);

        // The second connection is alive: the server answered the ClientHello with its handshake.
        Assert.True(await socket.ReceiveAsync(new byte[5], SocketFlags.None, Timeout) > 0);
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "debounced")));
        Assert.Single(log.WithEvent(nameof(FastOpenClientLog.ConnectAttemptFailed)));
    }

    private static async Task<string> ExchangeAsync(FastOpenConnector connector, DnsEndPoint endPoint, string request)
    {
        await using var stream = await connector.ConnectAsync(endPoint, Timeout);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Timeout);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync(Timeout);
    }

    private static async Task VisitAsync(FastOpenConnector connector, IPEndPoint server)
    {
        using var client = new HttpClient(new SocketsHttpHandler().UseFastOpen(connector));
        Assert.Equal("visited", await client.GetStringAsync(new Uri($"http://{server}/visit"), Timeout));
    }

    private static async Task<FastOpenReport> ReportAsync(FastOpenConnector connector, Uri server, HttpMethod method)
    {
        using var client = new HttpClient(new SocketsHttpHandler().UseFastOpen(connector));
        using var request = new HttpRequestMessage(method, new Uri(server, method == HttpMethod.Post ? "/transfer" : "/tfo"));
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("amount=1000");
        }

        using var response = await client.SendAsync(request, Timeout);
        response.EnsureSuccessStatusCode();
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<FastOpenReport>(response.Content, Timeout))!;
    }

    /// <summary>The client's instruments on one meter factory.</summary>
    private sealed class ClientMetrics(IMeterFactory meters) : IDisposable
    {
        public MetricsCollector Collector { get; } = new(meters, FastOpenClientMetrics.MeterName);

        public IReadOnlyList<MeasurementRecord> Connections => [.. Collector.Measurements.Where(m => m.Instrument == "kestreltfo.client.connections")];

        public IReadOnlyList<string> Outcomes => [.. Collector.TagValues("kestreltfo.client.connections", "kestreltfo.client.outcome").Cast<string>()];

        public void Dispose() => Collector.Dispose();
    }
}
