using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// A fresh socket per request, optionally with <c>TCP_FASTOPEN_CONNECT</c>: then connect returns at once when the
/// kernel holds a cookie, and the first write (the request, or over HTTPS the ClientHello) goes out in the SYN.
/// </summary>
/// <remarks>
/// It blocks in the kernel instead of awaiting: each wake-up is then the kernel waking this thread, not an epoll
/// thread handing a completion to the thread pool, so the client adds as little as it can to what it measures.
/// </remarks>
internal sealed class SocketClient(bool fastOpen, X509Certificate2 serverCertificate) : IFirstByteClient
{
    private const int TimeoutMilliseconds = 10_000;
    private static readonly byte[] s_request = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {BenchmarkCertificate.HostName}\r\nConnection: close\r\n\r\n");

    private readonly X509ChainPolicy _chainPolicy = BenchmarkCertificate.TrustOnly(serverCertificate);
    private readonly RemoteCertificateValidationCallback _validation = BenchmarkCertificate.AcceptOnly(serverCertificate);

    public string Name => fastOpen ? "socket, TFO" : "socket, plain";

    public string Family => "socket";

    public bool FastOpen => fastOpen;

    public Task<FirstByteTiming> TimeToFirstByteAsync(Func<Socket> createSocket, IPEndPoint server, bool https, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(TimeToFirstByte(createSocket, server, https));
    }

    private FirstByteTiming TimeToFirstByte(Func<Socket> createSocket, IPEndPoint server, bool https)
    {
        var opened = Stopwatch.GetTimestamp();
        using var socket = createSocket();
        socket.SendTimeout = socket.ReceiveTimeout = TimeoutMilliseconds;
        // Over TLS the client's Finished and the request are two writes: Nagle would hold the request for a round trip.
        socket.NoDelay = true;
        if (fastOpen)
        {
            FastOpenConnect.Set(socket, enabled: true);
        }

        socket.Connect(server);
        Stream stream = new SocketStream(socket);
        if (https)
        {
            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            tls.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = BenchmarkCertificate.HostName,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateChainPolicy = _chainPolicy,
                RemoteCertificateValidationCallback = _validation,
            });
            stream = tls;
        }

        using (stream)
        {
            stream.Write(s_request);
            var buffer = new byte[4096];
            if (stream.Read(buffer) == 0)
            {
                throw new IOException("the server closed without answering");
            }

            var firstByte = Stopwatch.GetTimestamp();
            // Asked only now, so the system call stays out of the time measured.
            var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            // Read to the server's close, so connections do not overlap and no reset cuts the response short.
            try
            {
                while (stream.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
                // A close without TLS close_notify: the response was timed already.
            }

            return new FirstByteTiming(opened, firstByte, port);
        }
    }
}
