using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// TLS 1.3 early data on the TLS layer on OpenSSL, tried with <c>openssl s_client</c> (a client nobody here wrote) and
/// as an attacker on the path would: the captured first flight of a 0-RTT handshake, sent again.
/// </summary>
public sealed class OpenSslEarlyDataTests
{
    private static readonly TimeSpan s_toolLimit = TimeSpan.FromSeconds(30);

    // Kestrel records it as each connection ends.
    private const string ConnectionDuration = "kestrel.connection.duration";

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task S_client_early_data_is_accepted_and_its_request_answered()
    {
        await using var app = Start(earlyData: true);
        using var metrics = Metrics(app);
        using var session = new TempFile();

        var first = await SClientAsync(app, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
        var second = await SClientAsync(app, session, resume: true, request: "GET /visit HTTP/1.0\r\n\r\n");

        Assert.Contains("Max Early Data: 16384", first);
        Assert.Contains("Early data was accepted", second);
        Assert.Contains("Reused, TLSv1.3", second);
        Assert.Contains("visited", second);
        Assert.Equal(2, app.Services.GetRequiredService<RequestLedger>().Visits);
        Assert.Equal(1, metrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(null)]
    [InlineData(TestKeys.TicketA)]
    public async Task Each_resumption_brings_a_fresh_ticket_so_early_data_goes_on_connection_after_connection(string? ticketKey)
    {
        // A client uses each ticket once (RFC 8446, appendix C.4): without a new one per resumption, every other
        // connection would be a full handshake, with no early data.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = Start(earlyData: true, ticketKey: ticketKey, time: clock);
        using var metrics = Metrics(app); // starts the app, and with it the replay window

        clock.Advance(TlsAntiReplay.Window);
        var sessions = Enumerable.Range(0, 4).Select(_ => new TempFile()).ToArray();
        try
        {
            await SClientAsync(app, sessions[0], resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
            for (var i = 1; i < sessions.Length; i++)
            {
                var answer = await SClientAsync(app, sessions[i - 1], resume: true, request: "GET /visit HTTP/1.0\r\n\r\n", next: sessions[i]);
                Assert.Contains("Early data was accepted", answer);
            }
        }
        finally
        {
            Array.ForEach(sessions, session => session.Dispose());
        }

        Assert.Equal(3, metrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_early_data_tickets_say_so_and_the_request_is_served_after_the_handshake()
    {
        await using var app = Start(earlyData: false);
        using var session = new TempFile();

        var first = await SClientAsync(app, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
        var second = await SClientAsync(app, session, resume: true, request: "GET /visit HTTP/1.0\r\n\r\n", afterHandshake: "GET /visit HTTP/1.0\r\n\r\n");

        Assert.Contains("Max Early Data: 0", first);
        Assert.DoesNotContain("Early data was accepted", second);
        Assert.Contains("visited", second);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_captured_first_flight_sent_again_has_its_early_data_declined_and_runs_nothing_more()
    {
        await using var app = Start(earlyData: true);
        using var metrics = Metrics(app);
        using var session = new TempFile();
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        await SClientAsync(app, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
        var flight = await CaptureAsync(session, "GET /visit HTTP/1.0\r\n\r\n");

        // The first copy to arrive stands for the client's own (a GET runs at once); the three after it are replays.
        for (var copy = 0; copy < 4; copy++)
        {
            await ZeroRttFirstFlight.ReplayAsync(flight, app.EndPoint, Timeout);
        }

        // Every connection over (s_client's and the four copies'): whatever they would run has run.
        Assert.True(await metrics.WaitUntilAsync(m => Offered(m) == 4 && m.Count(ConnectionDuration) == 5, s_toolLimit, Timeout), $"offered: {Offered(metrics)}");
        Assert.Equal(1, metrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
        Assert.Equal(3, metrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "replay")));
        Assert.Equal(2, ledger.Visits);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_POST_in_a_first_flight_never_runs_without_the_client_s_Finished_however_often_it_comes()
    {
        await using var app = Start(earlyData: true);
        using var metrics = Metrics(app);
        using var session = new TempFile();
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        await SClientAsync(app, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
        var flight = await CaptureAsync(session, "POST /transfer HTTP/1.0\r\nContent-Length: 11\r\n\r\namount=1000");

        for (var copy = 0; copy < 3; copy++)
        {
            await ZeroRttFirstFlight.ReplayAsync(flight, app.EndPoint, Timeout);
        }

        // Accepted once, held for a handshake that never completes, dropped when the attacker leaves.
        Assert.True(await metrics.WaitUntilAsync(
            m => m.Sum("kestreltfo.early_data.requests", ("kestreltfo.early_data.handling", "wait_for_handshake")) == 1 && Offered(m) == 3, s_toolLimit, Timeout));
        var dropped = LogEvents.Transport("EarlyDataRequestDropped");
        Assert.True(await Bounded.UntilAsync(() => app.Logs.Transport.Any(e => e.EventId == dropped), s_toolLimit, Timeout));
        Assert.Empty(ledger.Transfers);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_replayed_first_flight_with_a_GET_and_a_POST_pipelined_runs_the_GET_once_and_the_POST_never()
    {
        await using var app = Start(earlyData: true);
        using var metrics = Metrics(app);
        using var session = new TempFile();
        var ledger = app.Services.GetRequiredService<RequestLedger>();
        await SClientAsync(app, session, resume: false, request: "GET /early-data HTTP/1.0\r\n\r\n");
        var flight = await CaptureAsync(
            session, "GET /visit HTTP/1.1\r\nHost: test\r\n\r\nPOST /transfer HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\namount=1000");

        for (var copy = 0; copy < 3; copy++)
        {
            await ZeroRttFirstFlight.ReplayAsync(flight, app.EndPoint, Timeout);
        }

        Assert.True(await metrics.WaitUntilAsync(m => Offered(m) == 3 && m.Count(ConnectionDuration) == 4, s_toolLimit, Timeout));
        Assert.Equal(1, ledger.Visits);
        Assert.Empty(ledger.Transfers);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Early_data_larger_than_the_pipes_threshold_held_for_the_handshake_does_not_stall_it()
    {
        // A POST whose body, all in early data, stays unread while the request waits for the Finished behind it.
        await using var app = Start(earlyData: true, handshakeTimeout: TimeSpan.FromSeconds(5), maxEarlyData: 128 * 1024);
        using var session = new TempFile();
        await SClientAsync(app, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
        var body = new string('a', 100 * 1024);

        var answer = await SClientAsync(app, session, resume: true, request: $"POST /early-data HTTP/1.0\r\nContent-Length: {body.Length}\r\n\r\n{body}");

        Assert.Contains("Early data was accepted", answer);
        Assert.Contains("HTTP/1.1 200 OK", answer);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_client_that_sends_early_data_and_never_its_Finished_is_closed_at_the_handshake_timeout_and_its_POST_never_runs()
    {
        await using var app = Start(earlyData: true, handshakeTimeout: TimeSpan.FromSeconds(1));
        using var session = new TempFile();
        await SClientAsync(app, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
        var flight = await CaptureAsync(session, "POST /transfer HTTP/1.0\r\nContent-Length: 11\r\n\r\namount=1000");

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(app.EndPoint, Timeout);
        await socket.SendAsync(flight, SocketFlags.None, Timeout);

        // The server's flight, then nothing until it ends the connection (a close, or a reset).
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        limit.CancelAfter(s_toolLimit);
        var buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }

        var timedOut = LogEvents.Of(typeof(KestrelHttpsLog), "AuthenticationTimedOut");
        Assert.True(await Bounded.UntilAsync(() => app.Logs.Entries.Any(e => e.EventId == timedOut), s_toolLimit, Timeout));
        Assert.Empty(app.Services.GetRequiredService<RequestLedger>().Transfers);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task After_a_restart_with_keys_of_its_own_a_captured_first_flight_does_not_even_resume()
    {
        using var session = new TempFile();
        byte[] flight;
        IPEndPoint endPoint;
        await using (var before = Start(earlyData: true))
        {
            await SClientAsync(before, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");
            flight = await CaptureAsync(session, "GET /visit HTTP/1.0\r\n\r\n");
            endPoint = before.EndPoint;
        }

        await using var after = Start(earlyData: true, endPoint);
        using var metrics = Metrics(after);
        await ZeroRttFirstFlight.ReplayAsync(flight, after.EndPoint, Timeout);

        Assert.True(await metrics.WaitUntilAsync(m => Offered(m) == 1, s_toolLimit, Timeout));
        Assert.Equal(1, metrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "not_resumed")));
        Assert.Equal(0, after.Services.GetRequiredService<RequestLedger>().Visits);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task With_shared_ticket_keys_another_instance_accepts_early_data_once_its_replay_window_has_passed_and_not_before()
    {
        using var session = new TempFile();
        await using var issuer = Start(earlyData: true, ticketKey: TestKeys.TicketA);
        await SClientAsync(issuer, session, resume: false, request: "GET /visit HTTP/1.0\r\n\r\n");

        // Started just now: a first flight it accepted before a restart could come again unseen, so it declines.
        await using var young = Start(earlyData: true, ticketKey: TestKeys.TicketA);
        using var youngMetrics = Metrics(young);
        var declined = await SClientAsync(young, session, resume: true, request: "GET /visit HTTP/1.0\r\n\r\n", afterHandshake: "GET /visit HTTP/1.0\r\n\r\n");

        // Its clock says the window has passed since it started.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var settled = Start(earlyData: true, ticketKey: TestKeys.TicketA, time: clock);
        using var settledMetrics = Metrics(settled);
        clock.Advance(TlsAntiReplay.Window + TimeSpan.FromSeconds(1));
        var accepted = await SClientAsync(settled, session, resume: true, request: "GET /visit HTTP/1.0\r\n\r\n");

        Assert.Contains("Reused, TLSv1.3", declined);
        Assert.Contains("Early data was rejected", declined);
        Assert.Contains("visited", declined);
        Assert.Equal(1, youngMetrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "restart_window")));
        Assert.Contains("Early data was accepted", accepted);
        Assert.Contains("visited", accepted);
        Assert.Equal(1, settledMetrics.Sum(TlsEarlyDataMetrics.InstrumentName, (TlsEarlyDataMetrics.OutcomeTag, "accepted")));
    }

    [Fact]
    public void Early_data_without_the_request_guard_fails_start_up_and_says_how_to_fix_it()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(Loopback.NextAddress(), 0, listen =>
            listen.UseOpenSslHttps(new() { ServerCertificate = TestCertificate.Instance }, earlyData: true)));

        // Kestrel applies its options, and so the endpoint's TLS, as the host is built.
        var failure = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains("UseFastOpenTransport()", failure.Message, StringComparison.Ordinal);
    }

    private static long Offered(MetricsCollector metrics) => metrics.Sum(TlsEarlyDataMetrics.InstrumentName);

    /// <summary>An s_client resuming <paramref name="session"/> with <paramref name="request"/> as early data, captured.</summary>
    private static async Task<byte[]> CaptureAsync(TempFile session, string request)
    {
        using var early = new TempFile(request);
        return await ZeroRttFirstFlight.CaptureAsync(
            target => ChildProcess.Start("openssl", ["s_client", "-connect", target.ToString(), "-tls1_3", "-alpn", "http/1.1", "-sess_in", session.Path, "-early_data", early.Path], input: ""),
            Timeout);
    }

    private static KestrelAppFactory<Program> Start(
        bool earlyData, IPEndPoint? at = null, TimeSpan? handshakeTimeout = null, string? ticketKey = null, TimeProvider? time = null, int? maxEarlyData = null) =>
        OpenSslEndpoint.StartEarlyData(earlyData, at, handshakeTimeout, ticketKey, time, maxEarlyData);

    private static MetricsCollector Metrics(KestrelAppFactory<Program> app) => OpenSslEndpoint.TlsMetrics(app);

    /// <summary>
    /// One s_client connection: a first one writes its session out and sends <paramref name="request"/> after the
    /// handshake; a resuming one reads the session and sends it as early data where the ticket allows; where it does not,
    /// s_client sends nothing early, and <paramref name="afterHandshake"/> goes after the handshake instead. A resuming
    /// one writes the ticket it gets to <paramref name="next"/>, if given.
    /// </summary>
    private static async Task<string> SClientAsync(
        KestrelAppFactory<Program> app, TempFile session, bool resume, string request, string afterHandshake = "", TempFile? next = null)
    {
        List<string> arguments = ["s_client", "-connect", app.EndPoint.ToString(), "-tls1_3", "-alpn", "http/1.1", "-ign_eof"];
        if (!resume)
        {
            return await RunAsync([.. arguments, "-sess_out", session.Path], request);
        }

        using var early = new TempFile(request);
        List<string> resuming = [.. arguments, "-sess_in", session.Path, "-early_data", early.Path];
        return await RunAsync(next is null ? resuming : [.. resuming, "-sess_out", next.Path], afterHandshake);
    }

    private static async Task<string> RunAsync(List<string> arguments, string input)
    {
        var (exitCode, output) = await ChildProcess.RunAsync("openssl", arguments, s_toolLimit, Timeout, input: input);
        Assert.True(exitCode == 0, $"openssl s_client exited {exitCode}: {output}");
        return output;
    }
}
