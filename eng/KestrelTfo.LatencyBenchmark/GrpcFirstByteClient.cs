using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// A new <see cref="GrpcChannel"/> per call, over a <see cref="SocketsHttpHandler"/> of its own, so every call opens a
/// new HTTP/2 connection over TLS 1.3: with SocketsHttpHandler's own connect ("plain"), or with KestrelTfo.Client's
/// TCP Fast Open connect callback ("TFO"), which sends the ClientHello in the SYN once the kernel holds a cookie. The
/// time is to the unary call's response, the first thing a caller gets.
/// </summary>
internal sealed class GrpcFirstByteClient(bool fastOpen, X509Certificate2 serverCertificate) : IFirstByteClient
{
    private static readonly byte[] s_request = "ping"u8.ToArray();

    private readonly BenchmarkHandlerFactory _handlers = new(serverCertificate);

    public string Name => fastOpen ? "GrpcChannel + UseFastOpen" : "GrpcChannel";

    public string Family => "GrpcChannel";

    public bool FastOpen => fastOpen;

    public async Task<FirstByteTiming> TimeToFirstByteAsync(Func<Socket> createSocket, IPEndPoint server, bool https, CancellationToken cancellationToken)
    {
        if (!https)
        {
            throw new ArgumentException("the gRPC client speaks HTTP/2 over TLS only", nameof(https));
        }

        // The last socket made, for its port (see HttpClientFirstByteClient).
        Socket? connection = null;
        Socket CreateSocket() => connection = createSocket();

        var handler = _handlers.Create(fastOpen, CreateSocket, server);
        // The host name as SNI and :authority, as for the HttpClient rows: TLS sessions resume by it.
        using var channel = GrpcChannel.ForAddress(
            new Uri($"https://{server}"),
            new GrpcChannelOptions { HttpHandler = new HostHeaderHandler(BenchmarkCertificate.HostName, handler), DisposeHttpClient = true });
        var invoker = channel.CreateCallInvoker();
        var opened = Stopwatch.GetTimestamp();
        using var call = invoker.AsyncUnaryCall(PingServiceBase.Method, host: null, new CallOptions(cancellationToken: cancellationToken), s_request);
        var response = await call.ResponseAsync.ConfigureAwait(false);
        var firstByte = Stopwatch.GetTimestamp();
        if (response.Length != s_request.Length)
        {
            throw new IOException("the gRPC server answered with other bytes than it was sent");
        }

        return new FirstByteTiming(opened, firstByte, ((IPEndPoint)connection!.LocalEndPoint!).Port);
    }
}
