using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using KestrelTfo.LatencyBenchmark;
using Perfolizer.Mathematics.OutlierDetection;

namespace KestrelTfo.Microbenchmarks;

/// <summary>
/// A new connection's TLS 1.3 handshake over loopback, resumed and full, timed on the client from connect to the
/// validated server certificate: what the TLS stack (.NET's <see cref="SslStream"/> and OpenSSL) adds to the latency
/// benchmark's TLS rows beyond their round trips, with either transport.
/// </summary>
/// <remarks>
/// Plain <see cref="SslStream"/>s on blocking sockets, the server on a thread of its own: no Kestrel, no HTTP, no
/// thread pool, no TCP Fast Open. The time includes making the socket, the loopback connect and each side waking for
/// the other's flight; the server's work after the client's Finished (checking it, issuing session tickets) falls
/// outside it. One handshake per iteration, so the close and the server's end of the connection happen between
/// measurements; a long warm-up, so the first case to run is as warm as the second; no outliers removed. As in the
/// latency benchmark, the client names the host, garbage collection is not forced between handshakes, and idle CPUs
/// are held in their shallowest state (<see cref="ShallowCpuIdle"/>).
/// </remarks>
[InvocationCount(1)]
[WarmupCount(50)]
[IterationCount(100)]
[Outliers(OutlierMode.DontRemove)]
[MedianColumn]
[GcForce(false)]
public class TlsHandshakeBenchmarks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _serverDone = new(0);
    private readonly byte[] _byte = new byte[1];
    private X509Certificate2 _certificate = null!;
    private Socket _listener = null!;
    private Thread _server = null!;
    private SslClientAuthenticationOptions _client = null!;
    private IDisposable? _shallowIdle;
    private SslStream? _connection;
    private Exception? _serverFailure;
    private volatile bool _stopping;
    private int _handshakes;

    /// <summary>
    /// Whether the client resumes its previous session, as the latency benchmark's clients do. A full handshake asks
    /// for a name it has no session for; the client keeps its cached TLS context either way, as a real one does.
    /// </summary>
    [Params(true, false)]
    public bool Resume { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _shallowIdle = ShallowCpuIdle.TryHold(out var reason);
        if (_shallowIdle is null)
        {
            Console.WriteLine($"// idle CPUs may go into deep idle states: {reason}");
        }

        _certificate = BenchmarkCertificate.Create();
        _client = new SslClientAuthenticationOptions
        {
            TargetHost = BenchmarkCertificate.HostName,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateChainPolicy = BenchmarkCertificate.TrustOnly(_certificate),
            // Accepts the certificate under any name, so a full handshake can ask for a new one.
            RemoteCertificateValidationCallback = BenchmarkCertificate.AcceptOnly(_certificate),
        };

        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        var context = SslStreamCertificateContext.Create(_certificate, additionalCertificates: null, offline: true);
        _server = new Thread(() => Serve(context)) { IsBackground = true, Name = "TLS server" };
        _server.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopping = true;
        _listener.Dispose();
        _server.Join(Timeout);
        _certificate.Dispose();
        _serverDone.Dispose();
        _shallowIdle?.Dispose();
    }

    [IterationSetup]
    public void ChooseName()
    {
        if (!Resume)
        {
            _client.TargetHost = $"{++_handshakes}.{BenchmarkCertificate.HostName}";
        }
    }

    /// <summary>Connect and handshake, to the client's validation of the server's certificate.</summary>
    [Benchmark]
    public void Handshake()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.SendTimeout = socket.ReceiveTimeout = (int)Timeout.TotalMilliseconds;
        try
        {
            socket.Connect(_listener.LocalEndPoint!);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _connection = new SslStream(new NetworkStream(socket, ownsSocket: true));
        _connection.AuthenticateAsClient(_client);
    }

    /// <summary>
    /// Outside the measurement: reads the server's byte, which comes after its session tickets, so the client has a
    /// session to resume; then closes and waits for the server to finish, so no close overlaps the next handshake.
    /// </summary>
    [IterationCleanup]
    public void EndConnection()
    {
        var read = 0;
        try
        {
            read = _connection?.Read(_byte) ?? 1;
        }
        catch (IOException)
        {
            // The server's failure, if any, is the one to report.
        }
        finally
        {
            _connection?.Dispose();
            _connection = null;
        }

        var finished = _serverDone.Wait(Timeout);
        if (_serverFailure is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        if (!finished || read != 1)
        {
            throw new IOException(finished ? "the TLS server closed without its byte" : "the TLS server did not finish the connection");
        }
    }

    private void Serve(SslStreamCertificateContext context)
    {
        var options = new SslServerAuthenticationOptions { ServerCertificateContext = context, EnabledSslProtocols = SslProtocols.Tls13 };
        var buffer = new byte[1];
        while (!_stopping)
        {
            try
            {
                using var accepted = _listener.Accept();
                accepted.SendTimeout = accepted.ReceiveTimeout = (int)Timeout.TotalMilliseconds;
                using var tls = new SslStream(new NetworkStream(accepted, ownsSocket: false));
                tls.AuthenticateAsServer(options);
                tls.Write(buffer);
                ReadToClose(tls, buffer);
            }
            catch (Exception exception) when (_stopping && exception is SocketException or ObjectDisposedException)
            {
                // Cleanup closed the listener.
                return;
            }
            catch (Exception exception)
            {
                // Kept for the client's side to throw: an exception on this thread would end the whole process.
                _serverFailure = exception;
                return;
            }
            finally
            {
                _serverDone.Release();
            }
        }
    }

    private static void ReadToClose(SslStream tls, byte[] buffer)
    {
        try
        {
            while (tls.Read(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // The client closes without close_notify; the handshake, what is measured, was done.
        }
    }
}
