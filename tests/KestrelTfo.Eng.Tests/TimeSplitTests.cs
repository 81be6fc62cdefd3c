using System.Diagnostics;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;

namespace KestrelTfo.Eng.Tests;

/// <summary>
/// The latency benchmark's split of a connection's time between client, server and link, on a trace shaped like a
/// TFO connection's first HTTPS request, and a proxy's backend leg: exact numbers, so it needs no link.
/// </summary>
public sealed class TimeSplitTests
{
    private const int ClientPort = 40000;
    private const int ServerPort = 443;

    // Milliseconds after opening at 10; every crossing takes 50. The first byte reaches the caller at 232.
    private static readonly TracedSegment[] s_connection =
    [
        ToServer(11, 61, sequence: 1, payload: 517, syn: true),    // SYN + ClientHello
        ToClient(62, 112, sequence: 1, payload: 0, syn: true),     // SYN-ACK
        ToClient(70, 120, sequence: 2, payload: 240),              // ServerHello ... Finished
        ToServer(113, 163, sequence: 519, payload: 0),             // bare ACK of the SYN-ACK
        ToServer(123, 173, sequence: 519, payload: 80),            // client Finished
        ToServer(128, 178, sequence: 599, payload: 77),            // request, after the client checked the certificate
        ToServer(128.5, 178.5, sequence: 676, payload: 0),         // bare ACK, last to reach the server before it answers
        ToClient(175, 225, sequence: 242, payload: 287),           // session tickets
        ToClient(180, 230, sequence: 529, payload: 194),           // response
        ToServer(231, 281, sequence: 676, payload: 0),             // after the first byte: not part of it
        ToClient(5, 10.5, sequence: 9, payload: 50),               // the port's previous connection, sent before this one opened
        ToClient(11, 61, sequence: 1, payload: 100, port: ClientPort + 1), // another connection
    ];

    [Fact]
    public void The_critical_path_splits_into_client_server_and_link_time_that_add_up()
    {
        var split = TimeSplit.Of(new FirstByteTiming(Ticks(10), Ticks(232), ClientPort), s_connection);

        Assert.NotNull(split);
        // Client: 1 to send the SYN, 8 from the server's flight to the request, 2 from the response to the caller.
        Assert.Equal(11, split.Client, precision: 6);
        // Server: 9 from the SYN to its flight, 2 from the request to the response.
        Assert.Equal(11, split.Server, precision: 6);
        Assert.Equal(200, split.Link, precision: 6);
        // Turn by turn from the opening: the client's SYN, the server's flight, the client's request, the server's
        // response, the caller's byte.
        Assert.Equal(new double[] { 1, 9, 8, 2, 2 }, split.Turns.Select(turn => Math.Round(turn, 6)));
        Assert.Equal(split.Client + split.Server, split.Turns.Sum(), precision: 6);
    }

    [Fact]
    public void Without_TFO_the_handshake_adds_the_servers_SYN_ACK_and_the_clients_ClientHello_as_turns()
    {
        // Milliseconds after opening at 10; every crossing takes 50. The first byte reaches the caller at 333.
        TracedSegment[] connection =
        [
            ToServer(11, 61, sequence: 1, payload: 0, syn: true),     // SYN
            ToClient(62, 112, sequence: 1, payload: 0, syn: true),    // SYN-ACK
            ToServer(113, 163, sequence: 2, payload: 0),              // bare ACK of the SYN-ACK
            ToServer(115, 165, sequence: 2, payload: 517),            // ClientHello
            ToClient(170, 220, sequence: 2, payload: 240),            // ServerHello ... Finished
            ToServer(228, 278, sequence: 519, payload: 80),           // client Finished
            ToServer(229, 279, sequence: 599, payload: 77),           // request
            ToClient(281, 331, sequence: 242, payload: 194),          // response
        ];

        var split = TimeSplit.Of(new FirstByteTiming(Ticks(10), Ticks(333), ClientPort), connection);

        Assert.NotNull(split);
        Assert.Equal(new double[] { 1, 1, 3, 5, 9, 2, 2 }, split.Turns.Select(turn => Math.Round(turn, 6)));
        Assert.Equal(15, split.Client, precision: 6);
        Assert.Equal(8, split.Server, precision: 6);
        Assert.Equal(300, split.Link, precision: 6);
    }

    [Fact]
    public void A_trace_without_the_clients_SYN_gives_no_split()
    {
        var trace = s_connection.Where(segment => !(segment.ToServer && segment.Syn));

        Assert.Null(TimeSplit.Of(new FirstByteTiming(Ticks(10), Ticks(232), ClientPort), trace));
    }

    [Fact]
    public void A_trace_without_any_response_data_gives_no_split()
    {
        // Only the handshake: the walk would take the SYN-ACK for the response.
        var trace = s_connection.Take(2);

        Assert.Null(TimeSplit.Of(new FirstByteTiming(Ticks(10), Ticks(232), ClientPort), trace));
    }

    [Fact]
    public void A_retransmission_gives_no_split()
    {
        // The request again, its first copy lost: its timeout would count as the client's.
        var trace = s_connection.Append(ToServer(129, 179, sequence: 599, payload: 77));

        Assert.Null(TimeSplit.Of(new FirstByteTiming(Ticks(10), Ticks(232), ClientPort), trace));
    }

    [Fact]
    public void A_proxys_backend_leg_runs_from_its_SYN_leaving_to_the_first_response_byte_reaching_it()
    {
        // The proxy's new connection to the backend, behind a client connection timed from 10 to 300; crossings take 40.
        TracedSegment[] backend =
        [
            ToServer(5, 9, sequence: 7, payload: 0),                  // the previous connection's close, before this one opened
            ToServer(60, 100, sequence: 1, payload: 120, syn: true),  // SYN + request
            ToClient(101, 141, sequence: 1, payload: 0, syn: true),   // SYN-ACK
            ToClient(103, 143, sequence: 2, payload: 90),             // response
            ToServer(142, 182, sequence: 122, payload: 0),            // bare ACK
        ];

        var leg = BackendLeg.Of(new FirstByteTiming(Ticks(10), Ticks(300), ClientPort), backend);

        Assert.NotNull(leg);
        Assert.Equal(83, leg.Value, precision: 6);
    }

    [Fact]
    public void A_backend_leg_over_TLS_ends_at_the_response_the_proxys_answer_waited_for_not_at_the_handshake_flight()
    {
        // The proxy's new TLS connection, its request after the handshake; crossings take 40. The proxy's answer to its
        // client leaves at 190, on the client's link.
        TracedSegment[] backend =
        [
            ToServer(60, 100, sequence: 1, payload: 517, syn: true),  // SYN + ClientHello
            ToClient(101, 141, sequence: 1, payload: 0, syn: true),   // SYN-ACK
            ToClient(102, 142, sequence: 2, payload: 240),            // ServerHello ... Finished
            ToServer(145, 185, sequence: 518, payload: 160),          // Finished + request
            ToClient(186, 226, sequence: 242, payload: 90),           // response
            ToClient(250, 290, sequence: 332, payload: 200),          // a ticket, after the answer left
        ];
        TracedSegment[] client = [ToClient(230, 280, sequence: 9, payload: 100)];

        var leg = BackendLeg.Of(new FirstByteTiming(Ticks(10), Ticks(300), ClientPort), backend, client);

        Assert.NotNull(leg);
        Assert.Equal(166, leg.Value, precision: 6);
    }

    [Fact]
    public void A_backend_leg_over_a_reused_or_a_second_connection_is_not_told()
    {
        var timing = new FirstByteTiming(Ticks(10), Ticks(300), ClientPort);
        TracedSegment[] reused = [ToServer(60, 100, sequence: 300, payload: 120), ToClient(101, 141, sequence: 90, payload: 90)];
        TracedSegment[] two =
        [
            ToServer(60, 100, sequence: 1, payload: 0, syn: true),
            new(true, ClientPort + 1, ServerPort, 1, true, 0, Ticks(61), Ticks(101)),
            ToClient(101, 141, sequence: 1, payload: 0, syn: true),
            ToClient(150, 190, sequence: 2, payload: 90),
        ];

        Assert.Null(BackendLeg.Of(timing, reused));
        Assert.Null(BackendLeg.Of(timing, two));
    }

    private static TracedSegment ToServer(double taken, double delivered, uint sequence, int payload, bool syn = false) =>
        new(true, ClientPort, ServerPort, sequence, syn, payload, Ticks(taken), Ticks(delivered));

    private static TracedSegment ToClient(double taken, double delivered, uint sequence, int payload, bool syn = false, int port = ClientPort) =>
        new(false, ServerPort, port, sequence, syn, payload, Ticks(taken), Ticks(delivered));

    private static long Ticks(double milliseconds) => (long)(milliseconds * Stopwatch.Frequency / 1000);
}
