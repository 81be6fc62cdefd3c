using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// <see cref="NginxServer"/>, the reference server tests compare clients and KestrelTfo with, proven with
/// <c>openssl s_client</c>: a returning client's request in TLS 1.3 early data is answered from it and logged as such.
/// Over an emulated link, so nginx reads the request a round trip before the client's Finished arrives (see the
/// fixture's remarks on <c>$ssl_early_data</c>).
/// </summary>
public sealed class NginxFixtureTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_resumed_connection_s_GET_in_early_data_is_answered_and_logged_as_early_data()
    {
        var (first, second, requests) = await ResumeAsync(earlyData: true, afterHandshake: "");

        Assert.Contains("Max Early Data: 16384", first);
        Assert.Contains("Reused, TLSv1.3", second);
        Assert.Contains("Early data was accepted", second);
        Assert.Contains("\nGET 1\n", second, StringComparison.Ordinal);
        Assert.Equal(
            [new("GET", "/first", 200, "TLSv1.3", EarlyData: false, SessionReused: false), new("GET", "/early", 200, "TLSv1.3", EarlyData: true, SessionReused: true)],
            requests);
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task With_early_data_off_the_tickets_allow_none_and_the_request_goes_after_the_handshake()
    {
        var (first, second, requests) = await ResumeAsync(earlyData: false, afterHandshake: "GET /after HTTP/1.0\r\n\r\n");

        Assert.Contains("Max Early Data: 0", first);
        Assert.Contains("Reused, TLSv1.3", second);
        Assert.DoesNotContain("Early data was accepted", second);
        Assert.Equal(
            [new("GET", "/first", 200, "TLSv1.3", EarlyData: false, SessionReused: false), new("GET", "/after", 200, "TLSv1.3", EarlyData: false, SessionReused: true)],
            requests);
    }

    /// <summary>
    /// nginx over a link of the test's own, and two s_client connections to it: the first saves its session, the second
    /// resumes it, with <c>GET /early</c> as early data where the ticket allows and <paramref name="afterHandshake"/> after
    /// the handshake. Both outputs, and the requests nginx logged.
    /// </summary>
    private static async Task<(string First, string Second, IReadOnlyList<NginxRequest> Requests)> ResumeAsync(bool earlyData, string afterHandshake)
    {
        using var link = LinkEnvironment.StartSlowTowardClient();
        await using var nginx = await NginxServer.StartAsync(link.ServerAddress, TestCertificate.Instance, earlyData, cancellationToken: Timeout);
        using var session = new SessionFile();
        using var early = new TempFile("GET /early HTTP/1.0\r\n\r\n");

        var first = await LinkSClient.RunAsync(link, nginx.EndPoint, ["-sess_out", session.Path], "GET /first HTTP/1.0\r\n\r\n", Timeout);
        var second = await LinkSClient.RunAsync(link, nginx.EndPoint, ["-sess_in", session.Path, "-early_data", early.Path], afterHandshake, Timeout);
        return (first, second, await nginx.ReadAccessLogAsync(atLeast: 2, Timeout));
    }
}
