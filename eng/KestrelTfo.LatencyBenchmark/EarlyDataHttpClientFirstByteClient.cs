using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// An HttpClient with TLS 1.3 early data (KestrelTfo.Client's <c>FastOpenHttpsHandler</c>, TCP Fast Open on): one handler
/// for the whole run, since the handler keeps its TLS sessions itself, and a new connection per request
/// (<c>Connection: close</c>). Once it holds a ticket, its GET rides as early data behind the ClientHello, in the SYN; a
/// POST waits for the handshake.
/// </summary>
/// <remarks>
/// Its URIs name the server's address, not <see cref="BenchmarkCertificate.HostName"/>: the handler resolves the name
/// itself (a <c>Host</c> set by the caller keeps a request on SocketsHttpHandler's own TLS), and nothing here resolves the
/// benchmark's name. A session is kept by address and port instead, and the ClientHello carries no server name, which
/// costs no round trip.
/// </remarks>
internal sealed class EarlyDataHttpClientFirstByteClient : IFirstByteClient, IDisposable
{
    private readonly bool _post;
    private readonly HttpClient _client;

    // The timed connection's socket source, and the socket its connection took (for its port).
    private Func<Socket>? _createSocket;
    private Socket? _connection;

    public EarlyDataHttpClientFirstByteClient(bool post, X509Certificate2 serverCertificate)
    {
        _post = post;
        _client = new HttpClient(new BenchmarkHandlerFactory(serverCertificate).CreateWithEarlyData(CreateSocket));
    }

    public string Name => _post ? "HttpClient + FastOpenHttpsHandler, POST" : "HttpClient + FastOpenHttpsHandler";

    public string Family => "HttpClient";

    public bool FastOpen => true;

    public bool AnsweredFromEarlyData => !_post;

    public async Task<FirstByteTiming> TimeToFirstByteAsync(Func<Socket> createSocket, IPEndPoint server, bool https, CancellationToken cancellationToken)
    {
        (_createSocket, _connection) = (createSocket, null);
        using var request = new HttpRequestMessage(_post ? HttpMethod.Post : HttpMethod.Get, new Uri($"{(https ? "https" : "http")}://{server}/"));
        request.Headers.ConnectionClose = true;
        if (_post)
        {
            request.Content = new ByteArrayContent([]);
        }

        return await HttpClientFirstByteClient.TimeAsync(_client, request, () => _connection, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();

    private Socket CreateSocket() => _connection = (_createSocket ?? throw new InvalidOperationException("No connection is being timed."))();
}
