using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.NetEmu;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.WanLink;

/// <summary>
/// TLS early data from <c>openssl s_client</c> over a link with a real round trip, so that the client's Finished comes
/// a whole round trip after its early data: what the app does before the handshake completes is then visible.
/// </summary>
public sealed class OpenSslEarlyDataLinkTests
{
    // The handshake completes when the client's Finished arrives, a round trip after its early data. Holding the
    // server-to-client direction this long gives the app all that time to answer first, so the race has one outcome.
    private static readonly TimeSpan s_toServer = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_slowToClient = TimeSpan.FromMilliseconds(500);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_GET_in_early_data_is_answered_before_the_handshake_completes()
    {
        await using var scene = await Scene.StartAsync();

        var answer = await scene.SendEarlyAsync("GET /early-data HTTP/1.0\r\n\r\n");

        Assert.Contains("Early data was accepted", answer);
        Assert.Contains("\nearly RunAtOnce proxy=False possibleReplay=True", answer, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_POST_in_early_data_waits_for_the_client_s_Finished_then_runs_once()
    {
        await using var scene = await Scene.StartAsync();

        var answer = await scene.SendEarlyAsync("POST /early-data HTTP/1.0\r\nContent-Length: 0\r\n\r\n");

        Assert.Contains("Early data was accepted", answer);
        Assert.True(answer.Contains("\nearly WaitForHandshake proxy=False possibleReplay=False", StringComparison.Ordinal), answer + string.Join("\n", scene.Logs));
        Assert.Single(answer.Split("HTTP/1.1 200 OK"), part => part.Contains("early WaitForHandshake", StringComparison.Ordinal));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task Over_HTTP2_a_GET_in_early_data_is_answered_before_the_handshake_completes()
    {
        await using var scene = await Scene.StartAsync("h2");

        var answer = await scene.SendEarlyAsync(Http2GetThenGoAway("/early-data"), "h2");

        Assert.Contains("Early data was accepted", answer);
        Assert.Contains("ALPN protocol: h2", answer);
        Assert.Contains("early RunAtOnce proxy=False possibleReplay=True", answer, StringComparison.Ordinal);
    }

    /// <summary>
    /// An HTTP/2 client's first flight for one GET, written by hand (RFC 9113 frames, RFC 7541 literal header fields
    /// with static-table names, so that every byte is ASCII and can go through s_client's input too): the preface, empty
    /// SETTINGS, the request's HEADERS, and a GOAWAY, so the server ends the connection once it has answered.
    /// </summary>
    private static byte[] Http2GetThenGoAway(string path)
    {
        byte[] block =
        [
            0x42, 3, .. "GET"u8, // :method
            0x47, 5, .. "https"u8, // :scheme
            0x44, (byte)path.Length, .. System.Text.Encoding.ASCII.GetBytes(path), // :path
            0x41, 4, .. "test"u8, // :authority
        ];
        return
        [
            .. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8,
            0, 0, 0, 0x4, 0, 0, 0, 0, 0, // SETTINGS, empty
            0, 0, (byte)block.Length, 0x1, 0x5, 0, 0, 0, 1, .. block, // HEADERS, END_STREAM | END_HEADERS, stream 1
            0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, // GOAWAY, last stream 1, NO_ERROR
        ];
    }

    private sealed class Scene : IAsyncDisposable
    {
        private readonly EmulatedLink _link;
        private readonly KestrelAppFactory<Program> _app;
        private readonly TempFile _session = new();

        private Scene(EmulatedLink link, KestrelAppFactory<Program> app)
        {
            _link = link;
            _app = app;
        }

        /// <summary>Starts the link and the app, and a first connection over <paramref name="alpn"/> whose session the scene resumes.</summary>
        public static async Task<Scene> StartAsync(string alpn = "http/1.1")
        {
            var link = LinkEnvironment.Start(new EmulatedLinkOptions { ToServer = { Delay = s_toServer }, ToClient = { Delay = s_slowToClient } });
            var app = new KestrelAppFactory<Program>(listen: options => options.Listen(link.ServerAddress, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseOpenSslHttps(new() { ServerCertificate = TestCertificate.Instance }, earlyData: true);
            }));
            var scene = new Scene(link, app);
            var request = alpn == "h2" ? System.Text.Encoding.ASCII.GetString(Http2GetThenGoAway("/visit")) : "GET /visit HTTP/1.0\r\n\r\n";
            await scene.SClientAsync(["-alpn", alpn, "-sess_out", scene._session.Path], request);
            return scene;
        }

        /// <summary>Resumes the scene's session and sends <paramref name="request"/> as early data; s_client's whole output.</summary>
        public IEnumerable<string> Logs => _app.Logs.Entries.Select(e => $"{e.Category} {e.EventId} {e.Message} {e.Exception}");

        public Task<string> SendEarlyAsync(string request) => SendEarlyAsync(System.Text.Encoding.ASCII.GetBytes(request), "http/1.1");

        /// <summary>Resumes the scene's session and sends <paramref name="firstFlight"/> as early data, offering <paramref name="alpn"/>.</summary>
        public async Task<string> SendEarlyAsync(byte[] firstFlight, string alpn)
        {
            using var early = new TempFile();
            await File.WriteAllBytesAsync(early.Path, firstFlight, Timeout);
            return await SClientAsync(["-alpn", alpn, "-sess_in", _session.Path, "-early_data", early.Path], "");
        }

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            _link.Dispose();
            _session.Dispose();
        }

        private Task<string> SClientAsync(string[] session, string input) => LinkSClient.RunAsync(_link, _app.EndPoint, session, input, Timeout);
    }
}
