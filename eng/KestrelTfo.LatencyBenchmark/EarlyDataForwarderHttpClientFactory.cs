using System.Net.Http;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.Client;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The early-data proxy's forwarding clients, as the FastOpenProxy sample makes them (the app's one connector, a
/// <see cref="FastOpenHttpsHandler"/> around each handler), with what the benchmark adds: no pooled connection, so every
/// request opens a new one to the backend, and trust in the benchmark's certificate alone.
/// </summary>
internal sealed class EarlyDataForwarderHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, FastOpenConnector connector, X509Certificate2 certificate)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.PooledConnectionLifetime = TimeSpan.Zero;
        handler.SslOptions.CertificateChainPolicy = BenchmarkCertificate.TrustOnly(certificate);
        handler.SslOptions.RemoteCertificateValidationCallback = BenchmarkCertificate.AcceptOnly(certificate);
        handler.UseFastOpen(connector);
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        base.WrapHandler(context, new FastOpenHttpsHandler((SocketsHttpHandler)handler, connector));
}
