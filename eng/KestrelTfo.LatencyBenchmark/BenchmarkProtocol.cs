namespace KestrelTfo.LatencyBenchmark;

/// <summary>What the client speaks to the server (to the proxy, for proxy rows).</summary>
internal enum BenchmarkProtocol
{
    /// <summary>HTTP/1.1 over plain TCP.</summary>
    Http1,

    /// <summary>HTTP/1.1 over TLS 1.3.</summary>
    Https,

    /// <summary>A gRPC unary call: HTTP/2 over TLS 1.3.</summary>
    Grpc,

    /// <summary>HTTP/1.1 over TLS 1.3, terminated by KestrelTfo's TLS layer on OpenSSL (<c>UseOpenSslHttps</c>) instead of SslStream.</summary>
    HttpsOpenSsl,

    /// <summary>
    /// HTTP/1.1 over TLS 1.3 on KestrelTfo's OpenSSL layer with early data on (<c>UseOpenSslHttps(options, earlyData: true)</c>):
    /// a returning client sends its request with its ClientHello.
    /// </summary>
    HttpsOpenSslEarlyData,
}
