using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Counts round trips of a new HTTPS connection's first request over an emulated 200 ms link. SocketsHttpHandler's
/// own connect costs three (TCP handshake, TLS 1.3 handshake, request); with the TFO handler the ClientHello rides in
/// the SYN and it costs two. The 2.5 RTT boundary sits 100 ms from both outcomes. A busy machine only adds time, so
/// each client's fastest of a few connections is compared: the default connect can never get under the boundary.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class ClientRoundTripTests
{
    private static readonly TimeSpan s_roundTrip = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_boundary = s_roundTrip * 2.5;
    private const int Samples = 3;

    // A ClientHello is replay-safe, so no early-data policy holds it up: the round trip stays saved under each.
    [Theory(Timeout = Limits.LongTest)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    [InlineData("Reject")]
    public async Task Https_first_response_arrives_a_round_trip_earlier_with_the_TFO_handler(string policy)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions().WithRoundTripTime(s_roundTrip));
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy },
            listen: FastOpenHttp.Listen(link.ServerAddress, https: true));
        var server = new Uri($"https://{app.EndPoint}/tfo");
        using var log = new ClientLog();

        var cookie = await TimeFirstResponseAsync(FastOpenHandler(link, log), server);
        var fastOpen = TimeSpan.MaxValue;
        var plain = TimeSpan.MaxValue;
        for (var i = 0; i < Samples; i++)
        {
            fastOpen = TimeSpan.FromTicks(Math.Min(fastOpen.Ticks, (await TimeFirstResponseAsync(FastOpenHandler(link, log), server)).Ticks));
            plain = TimeSpan.FromTicks(Math.Min(plain.Ticks, (await TimeFirstResponseAsync(DefaultHandler(link), server)).Ticks));
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"first response over a {s_roundTrip.TotalMilliseconds} ms link: cookie {cookie.TotalMilliseconds:F0} ms, fastest TFO {fastOpen.TotalMilliseconds:F0} ms, fastest default handler {plain.TotalMilliseconds:F0} ms");
        Assert.Equal(["CookieRequested", .. Enumerable.Repeat("DataAccepted", Samples)], log.Connections);
        Assert.True(cookie > s_boundary, $"cookie request: {cookie.TotalMilliseconds} ms");
        Assert.True(fastOpen < s_boundary, $"TFO request: {fastOpen.TotalMilliseconds} ms");
        Assert.True(fastOpen >= s_roundTrip * 2, $"TFO request: {fastOpen.TotalMilliseconds} ms");
        Assert.True(plain > s_boundary, $"default handler: {plain.TotalMilliseconds} ms");
    }

    private static SocketsHttpHandler FastOpenHandler(EmulatedLink link, ClientLog log) =>
        FastOpenHttp.Handler(log, options => options.CreateSocket = _ => link.CreateClientSocket());

    /// <summary>SocketsHttpHandler's own connect, with the socket made on the client side of the link.</summary>
    private static SocketsHttpHandler DefaultHandler(EmulatedLink link)
    {
        var handler = FastOpenHttp.Handler(log: null);
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = link.CreateClientSocket();
            socket.NoDelay = true;
            try
            {
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
        return handler;
    }

    /// <summary>From sending the request on a new connection to the response headers.</summary>
    private static async Task<TimeSpan> TimeFirstResponseAsync(SocketsHttpHandler handler, Uri server)
    {
        using var client = new HttpClient(handler);
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(server, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        response.EnsureSuccessStatusCode();
        return elapsed;
    }
}
