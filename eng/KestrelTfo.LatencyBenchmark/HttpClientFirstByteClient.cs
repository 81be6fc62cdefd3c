using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// An HttpClient with a SocketsHttpHandler of its own per request, so every request opens a new connection: with
/// SocketsHttpHandler's own connect ("plain"), or with KestrelTfo.Client's TCP Fast Open connect callback ("TFO"),
/// which sends the request, or over HTTPS the ClientHello, in the SYN once the kernel holds a cookie.
/// </summary>
internal sealed class HttpClientFirstByteClient(bool fastOpen, X509Certificate2 serverCertificate) : IFirstByteClient
{
    private readonly BenchmarkHandlerFactory _handlers = new(serverCertificate);

    public string Name => fastOpen ? "HttpClient + UseFastOpen" : "HttpClient";

    public string Family => "HttpClient";

    public bool FastOpen => fastOpen;

    public async Task<FirstByteTiming> TimeToFirstByteAsync(Func<Socket> createSocket, IPEndPoint server, bool https, CancellationToken cancellationToken)
    {
        // The handler's one connection's socket, for its port: the last one made, as UseFastOpen's fallback to a
        // plain connect disposes its first socket and makes another (its racing FallbackDelay is left off here).
        Socket? connection = null;
        Socket CreateSocket() => connection = createSocket();

        using var handler = _handlers.Create(fastOpen, CreateSocket, server);
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{(https ? "https" : "http")}://{server}/"));
        request.Headers.ConnectionClose = true;
        // A host name, as real callers use: SocketsHttpHandler sends it as SNI, and the TLS stack keys session
        // resumption by it, as for the socket client. An address in the URI alone would mean a full handshake each time.
        request.Headers.Host = BenchmarkCertificate.HostName;
        return await TimeAsync(client, request, () => connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Times <paramref name="request"/> on a new connection to its first response byte, and reads the rest of the
    /// response; <paramref name="connection"/> gives the socket the connection took, for its port.
    /// </summary>
    public static async Task<FirstByteTiming> TimeAsync(HttpClient client, HttpRequestMessage request, Func<Socket?> connection, CancellationToken cancellationToken)
    {
        var opened = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var firstByte = Stopwatch.GetTimestamp();
        var port = ((IPEndPoint)connection()!.LocalEndPoint!).Port;

        // Read the whole response (the server closes after it), so connections do not overlap.
        await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        return new FirstByteTiming(opened, firstByte, port);
    }
}
