namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Names a host on every request whose URI holds an address, as a client that resolved the name would: SocketsHttpHandler
/// sends it as SNI (and HTTP/2's <c>:authority</c>), and the TLS stack resumes sessions by it.
/// </summary>
internal sealed class HostHeaderHandler(string host, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Host = host;
        return base.SendAsync(request, cancellationToken);
    }
}
