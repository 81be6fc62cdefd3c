using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// <c>openssl s_server</c>, a TLS server nobody here wrote, serving <see cref="TestCertificate"/> with one TLS 1.3 ticket
/// per handshake: it prints what each connection sends (early data after an "Early data received:" line) and sends
/// each line written to it to the connection it serves, one connection at a time. Killed when disposed.
/// </summary>
internal sealed class OpenSslServerTool : IDisposable
{
    private static readonly TimeSpan s_startLimit = TimeSpan.FromSeconds(20);

    private readonly ChildProcess _process;
    private readonly string _directory;

    private OpenSslServerTool(ChildProcess process, string directory, IPEndPoint endPoint)
    {
        _process = process;
        _directory = directory;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public string Output => _process.Output;

    /// <summary>Starts the server on <paramref name="address"/>, port <paramref name="port"/> (0: one the kernel picks).</summary>
    /// <param name="earlyData">Whether it reads early data (<c>-early_data</c>): without, its tickets allow none.</param>
    /// <param name="options">More of s_server's options (<c>-tls1_2</c>, <c>-alpn</c>, ...).</param>
    public static async Task<OpenSslServerTool> StartAsync(IPAddress address, int port, bool earlyData, CancellationToken cancellationToken, params string[] options)
    {
        var directory = Directory.CreateTempSubdirectory("kestreltfo-s_server-").FullName;
        ChildProcess? process = null;
        try
        {
            var certificate = Path.Combine(directory, "certificate.pem");
            var key = Path.Combine(directory, "key.pem");
            await File.WriteAllTextAsync(certificate, TestCertificate.Instance.ExportCertificatePem(), cancellationToken);
            using (var ecdsa = TestCertificate.Instance.GetECDsaPrivateKey()!)
            {
                await File.WriteAllTextAsync(key, ecdsa.ExportPkcs8PrivateKeyPem(), cancellationToken);
            }

            process = ChildProcess.Start(
                "openssl",
                ["s_server", "-accept", $"{address}:{port}", "-cert", certificate, "-key", key, "-num_tickets", "1", .. earlyData ? ["-early_data"] : Array.Empty<string>(), .. options],
                holdInput: true);

            // Once it listens: "ACCEPT 127.1.2.3:43203" when it picked the port, "ACCEPT" when it was given one.
            var accept = await process.WaitForLineAsync(l => l.StartsWith("ACCEPT", StringComparison.Ordinal), s_startLimit, cancellationToken)
                ?? throw new InvalidOperationException($"openssl s_server did not start listening: {process.Output}");
            var endPoint = new IPEndPoint(address, port != 0 ? port : int.Parse(accept[(accept.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
            return new OpenSslServerTool(process, directory, endPoint);
        }
        catch
        {
            process?.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Whether the server printed <paramref name="line"/> (bounded wait).</summary>
    public async Task<bool> PrintedAsync(string line, CancellationToken cancellationToken) =>
        await _process.WaitForLineAsync(l => l == line, s_startLimit, cancellationToken) is not null;

    /// <summary>How many lines the server has printed that are exactly <paramref name="line"/>.</summary>
    public int Count(string line) => Output.Split('\n').Count(l => l == line);

    /// <summary>Sends <paramref name="line"/> to the connection the server is serving.</summary>
    public Task SendAsync(string line, CancellationToken cancellationToken) => _process.WriteLineAsync(line, cancellationToken);

    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
