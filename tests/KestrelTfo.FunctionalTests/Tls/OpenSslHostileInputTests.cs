using System.Net;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using KestrelTfo.Tls;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// What a hostile or broken client sends to an endpoint on the TLS layer on OpenSSL, over real sockets: each ends its own
/// connection, with the reason at Debug in Kestrel's HTTPS category and event ids, and the next client is served.
/// </summary>
public sealed class OpenSslHostileInputTests
{
    private const int Failed = 1;
    private const int TimedOut = 2;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private static readonly (string What, byte[] Bytes)[] GarbageInputs =
    [
        ("bytes that are no TLS record", [.. "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, .. new byte[200]]),
        ("a record longer than TLS allows", [0x16, 0x03, 0x01, 0xFF, 0xFF, .. new byte[100]]),
        ("a fatal alert instead of a ClientHello", [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
        ("a handshake record of an unknown message", [0x16, 0x03, 0x01, 0x00, 0x04, 0x63, 0x00, 0x00, 0x00]),
    ];

    public static TheoryData<string, byte[]> Garbage => new(GarbageInputs.Select(g => (g.What, g.Bytes)));

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_ends_that_connection_only(string what, byte[] bytes)
    {
        await using var app = OpenSslEndpoint.Start();

        await SendAndReadToCloseAsync(app.EndPoint, bytes);

        Assert.True(HttpsLog(app, Failed).Count == 1, $"{what}: {Describe(app)}");
        await AssertServedAsync(app);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(60)]
    [InlineData(-1)] // all of it: the client leaves while the server's flight is on its way
    public async Task A_client_that_closes_mid_handshake_ends_its_connection_only(int length)
    {
        await using var app = OpenSslEndpoint.Start();
        var hello = SynPayloads.ClientHello("curl-tls13.bin");

        using (var socket = await ConnectAsync(app.EndPoint))
        {
            await socket.SendAsync(hello.AsMemory(0, length < 0 ? hello.Length : length), SocketFlags.None, Timeout);
        }

        Assert.True(await WaitForAsync(() => HttpsLog(app, Failed).Count == 1), Describe(app));
        await AssertServedAsync(app);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_ClientHello_in_one_byte_segments_is_answered()
    {
        await using var app = OpenSslEndpoint.Start();
        var hello = SynPayloads.ClientHello("curl-tls13.bin");

        using var socket = await ConnectAsync(app.EndPoint);
        for (var i = 0; i < hello.Length; i++)
        {
            await socket.SendAsync(hello.AsMemory(i, 1), SocketFlags.None, Timeout);
        }

        var header = new byte[5];
        for (var read = 0; read < header.Length;)
        {
            var n = await socket.ReceiveAsync(header.AsMemory(read), SocketFlags.None, Timeout);
            Assert.True(n > 0, "the server closed instead of answering");
            read += n;
        }

        // A handshake record of TLS 1.2's record version: the ServerHello.
        Assert.Equal(new byte[] { 0x16, 0x03, 0x03 }, header[..3]);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_stalled_handshake_ends_at_the_HandshakeTimeout()
    {
        await using var app = OpenSslEndpoint.Start(https => https.HandshakeTimeout = TimeSpan.FromMilliseconds(500));
        var hello = SynPayloads.ClientHello("curl-tls13.bin");

        // Half a ClientHello, then nothing: the server closes on its own.
        await SendAndReadToCloseAsync(app.EndPoint, hello[..(hello.Length / 2)]);

        Assert.Single(HttpsLog(app, TimedOut));
        Assert.Empty(HttpsLog(app, Failed));
        await AssertServedAsync(app);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_renegotiation_attempt_is_refused_and_the_next_client_is_served()
    {
        await using var app = OpenSslEndpoint.Start();

        // s_client renegotiates when a line of its input is "R"; the layer refuses (SSL_OP_NO_RENEGOTIATION).
        var (_, output) = await ChildProcess.RunAsync(
            "openssl", ["s_client", "-connect", app.EndPoint.ToString(), "-tls1_2"], TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken, input: "R\n");

        Assert.Contains("RENEGOTIATING", output);
        Assert.Contains("no renegotiation", output);
        await AssertServedAsync(app);
    }

    private static async Task AssertServedAsync(KestrelAppFactory<Program> app)
    {
        var report = await OpenSslEndpoint.ReportAsync(OpenSslEndpoint.BaseAddress(app));
        Assert.Equal(typeof(OpenSslTlsFeature).FullName, report.TlsFeatureType);
    }

    private static IReadOnlyList<LogEntry> HttpsLog(KestrelAppFactory<Program> app, int eventId) =>
        [.. app.Logs.Entries.Where(e => e.Category == KestrelHttpsLog.Category && e.EventId.Id == eventId && e.Level == LogLevel.Debug)];

    private static string Describe(KestrelAppFactory<Program> app) =>
        string.Join("\n", app.Logs.Entries.Where(e => e.Category == KestrelHttpsLog.Category).Select(e => $"{e.EventId} {e.Message} {e.Exception?.Message}"));

    private static async Task<Socket> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, Timeout);
        return socket;
    }

    /// <summary>Sends <paramref name="bytes"/> and reads until the server closes or resets the connection.</summary>
    private static async Task SendAndReadToCloseAsync(IPEndPoint server, byte[] bytes)
    {
        using var socket = await ConnectAsync(server);
        await socket.SendAsync(bytes, SocketFlags.None, Timeout);
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, Timeout) > 0)
            {
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, up to 10 s: for what the server logs after the client has gone.</summary>
    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !condition(); await Task.Delay(20, Timeout))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
        }

        return true;
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Hostile_connections_leave_no_unobserved_exception()
    {
        var unobserved = new List<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> record = (_, e) =>
        {
            // Other test classes run meanwhile: only the layer's own count here.
            if (e.Exception.ToString().Contains("KestrelTfo.Tls", StringComparison.Ordinal))
            {
                lock (unobserved)
                {
                    unobserved.Add(e.Exception);
                }
            }
        };
        TaskScheduler.UnobservedTaskException += record;
        try
        {
            await using (var app = OpenSslEndpoint.Start(https => https.HandshakeTimeout = TimeSpan.FromMilliseconds(500)))
            {
                foreach (var (_, bytes) in GarbageInputs)
                {
                    await SendAndReadToCloseAsync(app.EndPoint, bytes);
                }

                var hello = SynPayloads.ClientHello("curl-tls13.bin");
                await SendAndReadToCloseAsync(app.EndPoint, hello[..10]);
                using (var socket = await ConnectAsync(app.EndPoint))
                {
                    await socket.SendAsync(hello, SocketFlags.None, Timeout);
                }

                await AssertServedAsync(app);
            }

            // Whatever a finished connection left unobserved is reported when its task is finalized.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= record;
        }

        Assert.Empty(unobserved);
    }
}
