using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// Counts round trips of a new HTTPS connection's first request over an emulated link, from the segments it carried:
/// SocketsHttpHandler's own connect costs three (TCP handshake, TLS 1.3 handshake, request); with the TFO handler the
/// ClientHello rides in the SYN and it costs two.
/// </summary>
[Collection(nameof(RoundTripTimingTests))]
public sealed class ClientRoundTripTests
{
    // A ClientHello is replay-safe, so no early-data policy holds it up: the round trip stays saved under each.
    [Theory(Timeout = Limits.LongTest)]
    [InlineData("Flag")]
    [InlineData("Defer")]
    [InlineData("Reject")]
    public async Task Https_first_response_arrives_a_round_trip_earlier_with_the_TFO_handler(string policy)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // Long enough that a busy machine's pauses stay well under the client's retransmission timeouts (twice the round
        // trip, at least): a retransmitted segment makes the walk through the trace impossible.
        using var link = LinkEnvironment.Start(new EmulatedLinkOptions { TraceCapacity = 4096 }.WithRoundTripTime(TimeSpan.FromMilliseconds(200)));
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy },
            listen: FastOpenHttp.Listen(link.ServerAddress, https: true));
        var server = new Uri($"https://{app.EndPoint}/tfo");
        using var log = new ClientLog();

        var cookie = await FirstResponseAsync(link, server, log);
        var fastOpen = await FirstResponseAsync(link, server, log);
        var plain = await FirstResponseAsync(link, server, log: null);
        var trace = link.Trace!.Drain();

        Assert.Equal(0, link.Trace.Missed);
        Assert.Equal(["CookieRequested", "DataAccepted"], log.Connections);
        Assert.Equal(3, RoundTrips.Of(cookie, trace));
        Assert.Equal(2, RoundTrips.Of(fastOpen, trace));
        Assert.Equal(3, RoundTrips.Of(plain, trace));
    }

    /// <summary>
    /// One request on a new connection: through the TFO handler when <paramref name="log"/> is given, else through
    /// SocketsHttpHandler's own connect; from opening the socket to the response headers, and the socket's client port.
    /// </summary>
    private static async Task<FirstByteTiming> FirstResponseAsync(EmulatedLink link, Uri server, ClientLog? log)
    {
        Socket? opened = null;
        long openedAt = 0;
        Socket Open()
        {
            openedAt = Stopwatch.GetTimestamp();
            opened = link.CreateClientSocket();
            return opened;
        }

        using var handler = log is null ? DefaultHandler(Open) : FastOpenHttp.Handler(log, options => options.CreateSocket = _ => Open());
        using var client = new HttpClient(handler);
        using var response = await client.GetAsync(server, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var firstByte = Stopwatch.GetTimestamp();
        response.EnsureSuccessStatusCode();
        return new FirstByteTiming(openedAt, firstByte, ((IPEndPoint)opened!.LocalEndPoint!).Port);
    }

    /// <summary>SocketsHttpHandler's own connect, with the socket made on the client side of the link.</summary>
    private static SocketsHttpHandler DefaultHandler(Func<Socket> open)
    {
        var handler = FastOpenHttp.Handler(log: null);
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = open();
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
}
