using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using KestrelTfo.OpenSsl.Client;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// The client of a handshake run (see <see cref="HandshakeRun"/>), in a process of its own so that the server's process
/// does nothing else: the product's own OpenSSL client opens one connection at a time, each a TLS 1.3 handshake and one
/// <c>GET /</c> with <c>Connection: close</c> read to its end, for the given seconds, and prints how many connections it
/// made, how many of them resumed, and the seconds it took (its own start-up left out). Full: each connection on a
/// client context of its own, so it has no session to offer. Resumed: one context per client, each connection offering
/// the ticket the one before it got, as a browser would. Plain: the same connections and GETs without TLS, to a plain
/// endpoint: what every connection costs the server besides TLS.
/// </summary>
internal static class HandshakeLoop
{
    /// <summary>The argument that makes the benchmark's process this client.</summary>
    public const string Argument = "--handshake-loop";

    public const string Full = "full";

    public const string Resumed = "resumed";

    public const string Plain = "plain";

    private static readonly TimeSpan s_stallLimit = TimeSpan.FromSeconds(30);

    private static readonly byte[] s_request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

    /// <param name="args">
    /// The server's port on localhost, the seconds, <see cref="Full"/>, <see cref="Resumed"/> or <see cref="Plain"/>, the
    /// SHA-256 hash of the one certificate to accept, and how many such clients run at once.
    /// </param>
    [SupportedOSPlatform("linux")]
    public static async Task RunAsync(string[] args)
    {
        var server = new IPEndPoint(IPAddress.Loopback, int.Parse(args[0], CultureInfo.InvariantCulture));
        var duration = TimeSpan.FromSeconds(int.Parse(args[1], CultureInfo.InvariantCulture));
        var (mode, certificateHash) = (args[2], args[3]);
        var clients = int.Parse(args[4], CultureInfo.InvariantCulture);

        // A server that stops answering ends the run instead of holding it.
        using var stalled = new CancellationTokenSource(duration + s_stallLimit);
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => ClientAsync(server, duration, mode, certificateHash, stalled.Token))));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{results.Sum(r => r.Connections)} {results.Sum(r => r.Resumed)} {clock.Elapsed.TotalSeconds:F3}"));
    }

    [SupportedOSPlatform("linux")]
    private static async Task<(long Connections, long Resumed)> ClientAsync(
        IPEndPoint server, TimeSpan duration, string mode, string certificateHash, CancellationToken cancellationToken)
    {
        OpenSslCertificateValidator accept = (_, certificate, _) => certificate.GetCertHashString(HashAlgorithmName.SHA256) == certificateHash;
        using var shared = new OpenSslClientContext([], accept, sessionCapacity: 1, tls13Only: true);
        var buffer = new byte[16 * 1024];
        long connections = 0, resumed = 0;
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < duration; connections++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (mode == Plain)
            {
                using (socket)
                {
                    await socket.ConnectAsync(server, cancellationToken);
                    await socket.SendAsync(s_request, cancellationToken);
                    while (await socket.ReceiveAsync(buffer, cancellationToken) > 0)
                    {
                    }
                }

                continue;
            }

            using var own = mode == Resumed ? null : new OpenSslClientContext([], accept, sessionCapacity: 1, tls13Only: true);
            await using var connection = OpenSslClientConnection.Create(own ?? shared, socket, server, "localhost");
            var handshake = await connection.HandshakeAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
            resumed += handshake.IsResumed ? 1 : 0;
            await connection.WriteAsync(s_request, cancellationToken);

            // The ticket comes before the response, so reading to the end keeps it for the next connection.
            while (await connection.ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }

        return (connections, resumed);
    }
}
