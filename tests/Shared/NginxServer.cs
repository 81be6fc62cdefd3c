using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.Testing;

/// <summary>
/// nginx (Debian's 1.22, on OpenSSL 3), the HTTPS server others are compared with, as one process of the caller's:
/// TLS 1.3 only, TCP Fast Open on its listener (<c>listen ... fastopen=256</c>), session tickets, HTTP/1.1 and HTTP/2
/// (ALPN), and TLS 1.3 early data (<c>ssl_early_data on</c>) unless turned off. Every request, to any path and with any
/// method, is answered <c>200</c> with the body <c>"{method} {$ssl_early_data}\n"</c> (<c>"GET 1\n"</c> for a request
/// nginx read as early data, <c>"GET \n"</c> otherwise) and logged: <see cref="ReadAccessLogAsync"/>.
/// </summary>
/// <remarks>
/// <para>
/// Everything nginx writes (configuration, certificate and key, pid, error and access logs, temporary files) is in a
/// temporary directory of its own; it runs in the foreground as a single process (<c>daemon off; master_process
/// off</c>) in the caller's network namespace, and is killed and its directory deleted when disposed, or when this
/// process gets SIGINT or SIGTERM. In a test it needs the private network namespace eng/test.sh makes as root, and
/// skips (fails under CI) without it or without nginx.
/// </para>
/// <para>
/// nginx's <c>$ssl_early_data</c> is "1" only while the handshake is unfinished (nginx 1.22 asks OpenSSL's
/// <c>SSL_is_init_finished</c>). Over loopback the client's Finished can arrive before nginx reads the request out of
/// the early data, and then the request is logged with early data off although it came in it; over an emulated link
/// whose server-to-client delay exceeds nginx's time to answer, the request is always read before the Finished.
/// nginx has no replay defence: it answers the same 0-RTT first flight every time it comes.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// await using var nginx = await NginxServer.StartAsync(link.ServerAddress, TestCertificate.Instance, earlyData: true, cancellationToken: cancellationToken);
/// // ... requests to nginx.Url (https://198.18.x.y:port/) ...
/// var requests = await nginx.ReadAccessLogAsync(atLeast: 2, cancellationToken);
/// Assert.True(requests[1].EarlyData);
/// </code>
/// </example>
internal sealed partial class NginxServer : IAsyncDisposable
{
    private const string PidFile = "nginx.pid";
    private const string AccessLogFile = "access.log";
    private const string ErrorLogFile = "error.log";

    private static readonly TimeSpan s_startLimit = TimeSpan.FromSeconds(20);

    // Where a request lands in the log comes after its response leaves, so a reader waits for it, bounded.
    private static readonly TimeSpan s_logLimit = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _process;
    private readonly string _directory;
    private readonly PosixSignalRegistration[] _signals;
    private int _stopped;

    private NginxServer(ChildProcess process, string directory, IPEndPoint endPoint, bool earlyData)
    {
        _process = process;
        _directory = directory;
        EndPoint = endPoint;
        EarlyData = earlyData;
        // A run ended with Ctrl+C or SIGTERM ends without disposing anything: nginx, in the foreground of no terminal,
        // would outlive it. The handler does not cancel the signal, so the process then ends as it would have.
        _signals = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }.Select(signal => PosixSignalRegistration.Create(signal, _ => Stop()))];
    }

    /// <summary>The nginx binary (Debian puts it in /usr/sbin, which a user's PATH may lack); null when there is none.</summary>
    public static string? Executable { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/sbin")
            .Select(directory => Path.Combine(directory, "nginx"))
            .FirstOrDefault(File.Exists);

    /// <summary>Why nginx cannot be started here, or null when it can.</summary>
    public static string? UnavailableReason => Executable is null
        ? "nginx is not installed (Debian's package: apt-get install nginx; eng/test.sh installs it as root)"
        : null;

    /// <summary>Where nginx listens: the caller's address, on a port the kernel had free.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary><c>https://</c> and <see cref="EndPoint"/>, with the path <c>/</c>.</summary>
    public Uri Url => new($"https://{EndPoint}/");

    /// <summary>Whether nginx accepts TLS 1.3 early data (<c>ssl_early_data</c>): its tickets allow it.</summary>
    public bool EarlyData { get; }

    /// <summary>nginx's error log so far (level info: handshake failures are there), for a failing test's message.</summary>
    public string ErrorLog => ReadShared(Path.Combine(_directory, ErrorLogFile));

    /// <summary>
    /// Starts nginx on <paramref name="address"/> (an address of the caller's own: a test's loopback address, an
    /// emulated link's server address) and returns once it listens.
    /// </summary>
    /// <param name="address">Where to listen, on a port the kernel has free there.</param>
    /// <param name="certificate">The server's certificate, with its ECDSA or RSA private key; nginx gets copies as PEM files.</param>
    /// <param name="earlyData">Whether nginx accepts TLS 1.3 early data (<c>ssl_early_data on</c>).</param>
    /// <param name="keepAliveTimeout">
    /// How long nginx keeps an idle connection open (<c>keepalive_timeout</c>); null: nginx's default, 75 s. A client
    /// that reads to the server's close without asking it to close (nginx sends no ticket on a connection it closes
    /// while its handshake is unfinished, as after answering <c>Connection: close</c> from early data) waits this long.
    /// </param>
    /// <param name="port">The port; null for one the kernel has free (a test that restarts nginx passes the first one's).</param>
    /// <param name="cancellationToken">Ends the wait for nginx to listen.</param>
    /// <exception cref="InvalidOperationException">nginx is not installed, or exited or did not listen within 20 s (the message has its error log).</exception>
    public static async Task<NginxServer> StartAsync(
        IPAddress address, X509Certificate2 certificate, bool earlyData = true, TimeSpan? keepAliveTimeout = null, int? port = null, CancellationToken cancellationToken = default)
    {
        RequireEnvironment();
        var executable = Executable ?? throw new InvalidOperationException(UnavailableReason);
        var directory = Directory.CreateTempSubdirectory("kestreltfo-nginx-").FullName;
        ChildProcess? process = null;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "certificate.pem"), certificate.ExportCertificatePem(), cancellationToken).ConfigureAwait(false);
            using (var key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
                ?? throw new ArgumentException("the certificate has no ECDSA or RSA private key", nameof(certificate)))
            {
                await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), key.ExportPkcs8PrivateKeyPem(), cancellationToken).ConfigureAwait(false);
            }

            var endPoint = new IPEndPoint(address, port ?? FreePort(address));
            var configuration = Path.Combine(directory, "nginx.conf");
            await File.WriteAllTextAsync(configuration, Configuration(directory, endPoint, earlyData, keepAliveTimeout ?? TimeSpan.FromSeconds(75)), cancellationToken).ConfigureAwait(false);

            // -e: nginx opens its error log before it reads the configuration; -p: relative paths stay in the directory.
            process = ChildProcess.Start(executable, ["-p", directory + "/", "-e", Path.Combine(directory, ErrorLogFile), "-c", configuration], workingDirectory: directory);

            // nginx writes its pid file after it has bound and configured its listeners (TCP_FASTOPEN included).
            var pid = Path.Combine(directory, PidFile);
            var started = process;
            if (!await Bounded.UntilAsync(() => started.HasExited || (File.Exists(pid) && new FileInfo(pid).Length > 0), s_startLimit, cancellationToken).ConfigureAwait(false)
                || process.HasExited)
            {
                throw new InvalidOperationException(
                    $"nginx did not start listening on {endPoint}: {process.Output}\n{ReadShared(Path.Combine(directory, ErrorLogFile))}");
            }

            return new NginxServer(process, directory, endPoint, earlyData);
        }
        catch
        {
            process?.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// The requests nginx has logged, in order, once there are at least <paramref name="atLeast"/> (waited for, at
    /// most 10 s: nginx logs a request just after its response leaves); fewer when the wait ran out.
    /// </summary>
    public async Task<IReadOnlyList<NginxRequest>> ReadAccessLogAsync(int atLeast = 1, CancellationToken cancellationToken = default)
    {
        await Bounded.UntilAsync(() => Requests().Count >= atLeast, s_logLimit, cancellationToken).ConfigureAwait(false);
        return Requests();
    }

    /// <summary>Kills nginx and deletes its directory.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }

        Stop();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Skips a test, or fails it under CI, where nginx cannot run as the tests need it; the test projects implement it
    /// (NginxServer.Requirements.cs), a tool that compiles this file in checks <see cref="UnavailableReason"/> itself.
    /// </summary>
    static partial void RequireEnvironment();

    /// <summary>Once, from whichever comes first: the caller's dispose or a signal's handler.</summary>
    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private List<NginxRequest> Requests() =>
        [.. ReadShared(Path.Combine(_directory, AccessLogFile)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(NginxRequest.Parse)];

    /// <summary>A file nginx may be writing: whole lines only (a line being written has no newline yet), empty before it exists.</summary>
    private static string ReadShared(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        return text[..(text.LastIndexOf('\n') + 1)];
    }

    /// <summary>A port nobody listens on at <paramref name="address"/>: nginx takes no port 0, and the address is the caller's own.</summary>
    private static int FreePort(IPAddress address)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static string Configuration(string directory, IPEndPoint endPoint, bool earlyData, TimeSpan keepAliveTimeout)
    {
        string In(string name) => $"\"{Path.Combine(directory, name)}\"";
        return string.Create(CultureInfo.InvariantCulture, $$"""
            # Written by KestrelTfo's NginxServer: every path nginx writes is in this directory, none of the host's.
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{In(PidFile)}};
            lock_file {{In("nginx.lock")}};
            error_log {{In(ErrorLogFile)}} info;

            events {
                worker_connections 256;
            }

            http {
                client_body_temp_path {{In("client_body_temp")}};
                proxy_temp_path {{In("proxy_temp")}};
                fastcgi_temp_path {{In("fastcgi_temp")}};
                uwsgi_temp_path {{In("uwsgi_temp")}};
                scgi_temp_path {{In("scgi_temp")}};

                # Read by NginxRequest.Parse: an empty variable is logged as "-".
                log_format kestreltfo '$request_method $request_uri $status $ssl_protocol $ssl_early_data $ssl_session_reused';
                access_log {{In(AccessLogFile)}} kestreltfo;
                keepalive_timeout {{(long)keepAliveTimeout.TotalMilliseconds}}ms;

                server {
                    listen {{endPoint}} ssl http2 fastopen=256;
                    ssl_certificate {{In("certificate.pem")}};
                    ssl_certificate_key {{In("key.pem")}};
                    ssl_protocols TLSv1.3;
                    ssl_session_tickets on;
                    ssl_early_data {{(earlyData ? "on" : "off")}};

                    location / {
                        default_type text/plain;
                        return 200 "$request_method $ssl_early_data\n";
                    }
                }
            }

            """);
    }
}
