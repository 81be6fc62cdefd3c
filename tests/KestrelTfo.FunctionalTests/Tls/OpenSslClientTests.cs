using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.OpenSsl.Client;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// The project's TLS client on OpenSSL against <c>openssl s_server</c> over loopback: a ticket from the first
/// connection resumes the next, whose early data the server reads; each session is used once; early data the server
/// does not take is sent once after the handshake; broken servers end the handshake with a clear exception and free
/// every handle.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class OpenSslClientTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task The_second_connection_resumes_with_the_first_ones_ticket_and_its_early_data_is_accepted()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout, "-alpn", "http/1.1");
        using var context = OpenSslClientExchange.NewContext();

        var first = await OpenSslClientExchange.RunAsync(context, server, "first", Timeout);
        var sessions = context.Sessions.Count;
        var second = await OpenSslClientExchange.RunAsync(context, server, "second", Timeout);

        Assert.Equal(1, sessions);
        Assert.Equal(new(SslProtocols.Tls13, false, SslApplicationProtocol.Http11, ClientEarlyDataStatus.NotSent), first.Handshake);
        Assert.Equal(new(SslProtocols.Tls13, true, SslApplicationProtocol.Http11, ClientEarlyDataStatus.Accepted), second.Handshake);
        Assert.Equal((true, false), (first.Resent, second.Resent));
        Assert.True(await server.PrintedAsync("Early data received:", Timeout), server.Output);
        Assert.Equal((1, 1), (server.Count("first"), server.Count("second")));
        Assert.True(first.Released && second.Released);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_zero_byte_read_waits_for_data_and_takes_none()
    {
        // SocketsHttpHandler waits for a response with a read of no bytes; answered at once it would spin, and a read that
        // took a byte would lose it.
        await using var app = OpenSslEndpoint.Start();
        using var context = OpenSslClientExchange.NewContext();
        using var connection = OpenSslClientConnection.Create(context, NewSocket(), app.EndPoint, OpenSslClientExchange.HostName);
        await connection.HandshakeAsync(default, Timeout);

        // Nothing but the server's ticket can come before the request: the read must still be waiting.
        var waiting = connection.ReadAsync(Memory<byte>.Empty, Timeout).AsTask();
        var pendingBeforeRequest = !waiting.IsCompleted;
        await connection.WriteAsync("GET /tls HTTP/1.1\r\nHost: kestreltfo.test\r\nConnection: close\r\n\r\n"u8.ToArray(), Timeout);
        var zero = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Timeout);
        var buffer = new byte[5];
        var read = await connection.ReadAsync(buffer, Timeout);

        Assert.True(pendingBeforeRequest);
        Assert.Equal(0, zero);
        Assert.Equal("HTTP/"u8.ToArray(), buffer[..read]);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_session_is_used_once()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout);
        using var context = OpenSslClientExchange.NewContext();
        await OpenSslClientExchange.RunAsync(context, server, "ticket", Timeout);

        // The resumed connection reads nothing, so it takes in no ticket of its own: the next has none to resume with.
        OpenSslClientHandshake resumed;
        using (var connection = OpenSslClientConnection.Create(context, NewSocket(), server.EndPoint, OpenSslClientExchange.HostName))
        {
            resumed = await connection.HandshakeAsync(default, Timeout);
        }

        var sessionsAfter = context.Sessions.Count;
        var next = await OpenSslClientExchange.RunAsync(context, server, "next", Timeout);

        Assert.True(resumed.IsResumed);
        Assert.Equal(0, sessionsAfter);
        Assert.False(next.Handshake.IsResumed);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_connection_that_reads_no_data_waits_for_its_ticket()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout);
        using var context = OpenSslClientExchange.NewContext();

        // A TLS 1.3 ticket comes after the handshake, and OpenSSL takes it in only while reading.
        bool received;
        using (var connection = OpenSslClientConnection.Create(context, NewSocket(), server.EndPoint, OpenSslClientExchange.HostName))
        {
            await connection.HandshakeAsync(default, Timeout);
            received = await connection.ReceiveSessionAsync(Timeout);
        }

        Assert.True(received);
        Assert.Equal(1, context.Sessions.Count);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task The_store_keeps_its_capacity_of_sessions_and_frees_those_it_drops()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout, "-num_tickets", "3");
        var context = new OpenSslClientContext([], (_, certificate, _) => TestCertificate.IsTheOne(certificate), sessionCapacity: 2);
        var released = SafeSslSessionHandle.Released;

        // Three tickets come with the answer; the oldest goes.
        await OpenSslClientExchange.RunAsync(context, server, "three tickets", Timeout);
        var (kept, dropped) = (context.Sessions.Count, SafeSslSessionHandle.Released - released);
        context.Dispose();

        Assert.Equal((2, 1), (kept, dropped));
        Assert.Equal(3, SafeSslSessionHandle.Released - released);
        Assert.True(context.IsReleased);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Early_data_a_new_server_on_the_same_port_rejects_is_sent_once_after_the_handshake()
    {
        var address = Loopback.NextAddress();
        using var context = OpenSslClientExchange.NewContext();
        int port;
        using (var issuer = await OpenSslServerTool.StartAsync(address, 0, earlyData: true, Timeout))
        {
            await OpenSslClientExchange.RunAsync(context, issuer, "ticket", Timeout);
            port = issuer.EndPoint.Port;
        }

        // Its ticket keys are its own: the ticket does not resume, and the early data under it cannot be read.
        using var server = await OpenSslServerTool.StartAsync(address, port, earlyData: true, Timeout);
        var exchange = await OpenSslClientExchange.RunAsync(context, server, "request", Timeout);

        Assert.Equal((false, ClientEarlyDataStatus.Rejected, true), (exchange.Handshake.IsResumed, exchange.Handshake.EarlyData, exchange.Resent));
        Assert.True(await server.PrintedAsync("Early data was rejected", Timeout), server.Output);
        Assert.Equal(1, server.Count("request"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_server_without_early_data_resumes_and_gets_the_data_once_after_the_handshake()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: false, Timeout);
        using var context = OpenSslClientExchange.NewContext();

        await OpenSslClientExchange.RunAsync(context, server, "ticket", Timeout);
        var exchange = await OpenSslClientExchange.RunAsync(context, server, "request", Timeout);

        // Its ticket allows no early data, so none is sent.
        Assert.Equal((true, ClientEarlyDataStatus.NotSent, true), (exchange.Handshake.IsResumed, exchange.Handshake.EarlyData, exchange.Resent));
        Assert.Equal(1, server.Count("request"));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_TLS_1_2_session_resumes()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: false, Timeout, "-tls1_2");
        using var context = OpenSslClientExchange.NewContext();

        var first = await OpenSslClientExchange.RunAsync(context, server, "first", Timeout);
        var second = await OpenSslClientExchange.RunAsync(context, server, "second", Timeout);

        Assert.Equal((SslProtocols.Tls12, false), (first.Handshake.Protocol, first.Handshake.IsResumed));
        Assert.Equal((SslProtocols.Tls12, true, ClientEarlyDataStatus.NotSent, true), (second.Handshake.Protocol, second.Handshake.IsResumed, second.Handshake.EarlyData, second.Resent));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_certificate_the_validator_refuses_ends_the_handshake_and_leaves_no_session()
    {
        using var server = await OpenSslServerTool.StartAsync(Loopback.NextAddress(), 0, earlyData: true, Timeout);
        string? askedFor = null;
        using var context = new OpenSslClientContext([], (hostName, _, sent) =>
        {
            askedFor = $"{hostName} ({sent.Count} sent)";
            return false;
        });
        var connection = OpenSslClientConnection.Create(context, NewSocket(), server.EndPoint, OpenSslClientExchange.HostName);

        AuthenticationException refused;
        using (connection)
        {
            refused = await Assert.ThrowsAsync<AuthenticationException>(() => connection.HandshakeAsync(default, Timeout));
        }

        Assert.Equal($"{OpenSslClientExchange.HostName} (1 sent)", askedFor);
        Assert.Contains("the certificate validator refused 'CN=KestrelTfo test server'", refused.Message);
        Assert.Equal(0, context.Sessions.Count);
        Assert.True(connection.IsReleased);
    }

    public static TheoryData<string, byte[], Type> BrokenServers => new()
    {
        { "bytes that are no TLS", "HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), typeof(AuthenticationException) },
        { "a fatal alert", [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28], typeof(AuthenticationException) },
        { "nothing, then a close", [], typeof(IOException) },
        { "part of a record, then a close", [0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00], typeof(IOException) },
    };

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(BrokenServers))]
    public async Task A_broken_server_ends_the_handshake_with_a_clear_exception_and_every_handle_is_freed(string what, byte[] answer, Type expected)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        listener.Listen(1);
        var serving = AnswerOnceAsync(listener, answer);
        using var context = OpenSslClientExchange.NewContext();
        var connection = OpenSslClientConnection.Create(context, NewSocket(), listener.LocalEndPoint!, OpenSslClientExchange.HostName);

        Exception failure;
        using (connection)
        {
            failure = await Assert.ThrowsAnyAsync<Exception>(() => connection.HandshakeAsync("early"u8.ToArray(), Timeout));
        }

        await serving;
        Assert.True(failure.GetType() == expected, $"{what}: {failure}");
        Assert.Contains(OpenSslClientExchange.HostName, failure.Message);
        Assert.True(connection.IsReleased, what);
    }

    private static Socket NewSocket() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    /// <summary>Takes one connection, reads its ClientHello, sends <paramref name="answer"/> and closes.</summary>
    private static async Task AnswerOnceAsync(Socket listener, byte[] answer)
    {
        using var accepted = await listener.AcceptAsync(Timeout);
        await accepted.ReceiveAsync(new byte[16 * 1024], SocketFlags.None, Timeout);
        await accepted.SendAsync(answer, SocketFlags.None, Timeout);
        accepted.Shutdown(SocketShutdown.Send);
    }
}
