using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.Client;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// SocketsHttpHandlers for the HttpClient and gRPC clients, one per timed connection, trusting the benchmark's
/// certificate only and speaking TLS 1.3: with SocketsHttpHandler's own connect ("plain"), or with KestrelTfo.Client's
/// TCP Fast Open connect callback ("TFO"). Either way the sockets come from the caller, made on the link's client side.
/// </summary>
internal sealed class BenchmarkHandlerFactory(X509Certificate2 serverCertificate)
{
    private readonly X509ChainPolicy _chainPolicy = BenchmarkCertificate.TrustOnly(serverCertificate);
    private readonly RemoteCertificateValidationCallback _validation = BenchmarkCertificate.AcceptOnly(serverCertificate);

    public SocketsHttpHandler Create(bool fastOpen, Func<Socket> createSocket, IPEndPoint server)
    {
        var handler = Trusting();
        if (fastOpen)
        {
            handler.UseFastOpen(options => options.CreateSocket = _ => createSocket());
            return handler;
        }

        // SocketsHttpHandler's own connect, with the socket made on the client side of the link.
        handler.ConnectCallback = async (context, token) =>
        {
            var socket = createSocket();
            socket.NoDelay = true;
            try
            {
                await socket.ConnectAsync(server, token).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
        return handler;
    }

    /// <summary>
    /// HttpClient with TLS 1.3 early data: a <see cref="FastOpenHttpsHandler"/> in front of a handler with TCP Fast Open,
    /// both on one connector with <see cref="FastOpenConnectOptions.TlsEarlyData"/>. It keeps its TLS sessions itself, so
    /// one serves every connection of a run.
    /// </summary>
    public HttpMessageHandler CreateWithEarlyData(Func<Socket> createSocket)
    {
        var connector = new FastOpenConnector(new FastOpenConnectOptions { TlsEarlyData = true, CreateSocket = _ => createSocket() });
        var handler = Trusting();
        handler.UseFastOpen(connector);
        return new FastOpenHttpsHandler(handler, connector);
    }

    /// <summary>A handler that speaks TLS 1.3 and trusts the benchmark's certificate alone.</summary>
    private SocketsHttpHandler Trusting() => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateChainPolicy = _chainPolicy,
            RemoteCertificateValidationCallback = _validation,
        },
    };
}
