using System.Net;
using KestrelTfo.NetEmu;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// <c>openssl s_client</c> on an emulated link's client side (entered with <c>nsenter</c>), over TLS 1.3 to a server
/// on its server side: a client with a real round trip, a client nobody here wrote.
/// </summary>
internal static class LinkSClient
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// One connection with <paramref name="options"/> (<c>-alpn</c>, <c>-sess_out FILE</c>, <c>-sess_in FILE -early_data
    /// FILE</c>, ...); <paramref name="input"/> goes after the handshake, and s_client reads until the server closes
    /// (<c>-ign_eof</c>). Its whole output; it must exit 0.
    /// </summary>
    public static async Task<string> RunAsync(EmulatedLink link, IPEndPoint server, IEnumerable<string> options, string input, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(
            "nsenter",
            [$"--net={link.ClientNamespace}", "openssl", "s_client", "-connect", server.ToString(), "-tls1_3", "-ign_eof", .. options],
            s_limit,
            cancellationToken,
            input: input);
        Assert.True(exitCode == 0, $"openssl s_client exited {exitCode}: {output}");
        return output;
    }
}
