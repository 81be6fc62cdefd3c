using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KestrelTfo.OpenSsl.Client;
using KestrelTfo.Platform;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The project's own TLS client on OpenSSL (src/Shared/OpenSsl/Client), with TLS 1.3 early data: it keeps each
/// connection's ticket, so every connection after its first resumes and sends its request with the ClientHello, and with
/// TCP Fast Open (a cookie held) that first flight rides in the SYN. A GET is answered from the early data at once; a
/// POST waits on the server for the handshake to complete. What the server does not take goes after the handshake.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OpenSslFirstByteClient : IFirstByteClient, IDisposable
{
    // The response is one segment and the server closes after it: a handful of reads reach its end.
    private const int MaxReads = 1024;

    private readonly bool _fastOpen;
    private readonly bool _post;
    private readonly byte[] _request;
    private readonly OpenSslClientContext _context;

    /// <param name="fastOpen">Whether its sockets have <c>TCP_FASTOPEN_CONNECT</c>.</param>
    /// <param name="post">A POST (with no body) instead of a GET.</param>
    /// <param name="path">What it asks for.</param>
    /// <param name="serverCertificate">The one certificate it accepts, whatever name it asked for.</param>
    /// <param name="keepAlive">
    /// Whether to leave out <c>Connection: close</c> and wait for the server to close the idle connection: for a server
    /// that, asked to close a connection whose request it answered from early data, closes it before it has read the
    /// client's Finished, so it never sends the ticket the next connection needs (nginx 1.22 does: it frees a TLS
    /// connection without a shutdown while its handshake is unfinished). What is timed, the first response byte, is the same.
    /// </param>
    public OpenSslFirstByteClient(bool fastOpen, bool post, string path, X509Certificate2 serverCertificate, bool keepAlive = false)
    {
        _fastOpen = fastOpen;
        _post = post;
        _request = Encoding.ASCII.GetBytes(
            $"{(post ? "POST" : "GET")} {path} HTTP/1.1\r\nHost: {BenchmarkCertificate.HostName}\r\n{(keepAlive ? "" : "Connection: close\r\n")}{(post ? "Content-Length: 0\r\n" : "")}\r\n");
        var accepted = serverCertificate.GetCertHash();
        _context = new OpenSslClientContext([SslApplicationProtocol.Http11], (_, presented, _) => presented.GetCertHash().AsSpan().SequenceEqual(accepted));
    }

    public string Name => $"OpenSSL client, {(_fastOpen ? "TFO + " : "")}early data{(_post ? ", POST" : "")}";

    public string Family => "OpenSSL client";

    public bool FastOpen => _fastOpen;

    public bool AnsweredFromEarlyData => !_post;

    /// <summary>What the last connection's handshake settled, for tests.</summary>
    public OpenSslClientHandshake? LastHandshake { get; private set; }

    public async Task<FirstByteTiming> TimeToFirstByteAsync(Func<Socket> createSocket, IPEndPoint server, bool https, CancellationToken cancellationToken)
    {
        var opened = Stopwatch.GetTimestamp();
        var socket = createSocket();
        if (_fastOpen)
        {
            FastOpenConnect.Set(socket, enabled: true);
        }

        using var connection = OpenSslClientConnection.Create(_context, socket, server, BenchmarkCertificate.HostName);
        LastHandshake = await connection.HandshakeAsync(_request, cancellationToken).ConfigureAwait(false);
        await connection.SendEarlyDataUnlessAcceptedAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[4096];
        if (await connection.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new IOException("the server closed without answering");
        }

        var firstByte = Stopwatch.GetTimestamp();
        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;

        // Read to the server's close, so connections do not overlap; a ticket for the next connection comes on the way
        // (answered from early data, the response leaves before the server has the client's Finished, the ticket after it).
        for (var reads = 0; reads < MaxReads && await connection.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0; reads++)
        {
        }

        return new FirstByteTiming(opened, firstByte, port);
    }

    public void Dispose() => _context.Dispose();
}
