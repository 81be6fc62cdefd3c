using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http;
using System.Security.Cryptography;
using KestrelTfo.Client;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// The client of a client CPU run (see <see cref="ClientCpuRun"/>), in a process of its own so that the process's CPU
/// time is the client's alone: one HttpClient opens new HTTPS connections one at a time, each for one GET
/// (<c>Connection: close</c>), over the client's own TLS (<see cref="FastOpenHttpsHandler"/> with early data) or over
/// SslStream (the same SocketsHttpHandler without it), both with TCP Fast Open, and after a warm-up prints the CPU time
/// and the bytes allocated per connection, and how many connections resumed a session and had their GET taken as early data.
/// </summary>
internal static class ClientCpuLoop
{
    /// <summary>The argument that makes the benchmark's process this client.</summary>
    public const string Argument = "--client-loop";

    /// <param name="args"><c>own</c> or <c>sslstream</c>, the server's port on localhost, the SHA-256 hash of the one certificate to accept, the warm-up and the measured connections.</param>
    public static async Task RunAsync(string[] args)
    {
        var ownTls = args[0] == "own";
        // A name, as real callers use: SslStream resumes sessions by it (an address in the URI would mean a full handshake
        // each time), and the client's own TLS by name and port. The server says whether each connection resumed.
        var uri = new Uri($"https://localhost:{args[1]}/resumed");
        var certificateHash = args[2];
        var (warmup, connections) = (int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));

        long earlyData = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == FastOpenClientMetrics.MeterName && instrument.Name == "kestreltfo.client.tls.early_data")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "kestreltfo.client.tls.early_data.outcome", Value: "accepted" })
                {
                    Interlocked.Add(ref earlyData, value);
                }
            }
        });
        listener.Start();

        var connector = new FastOpenConnector(new FastOpenConnectOptions { TlsEarlyData = ownTls });
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == certificateHash;
        handler.UseFastOpen(connector);
        using var client = new HttpClient(ownTls ? new FastOpenHttpsHandler(handler, connector) : handler);

        for (var i = 0; i < warmup; i++)
        {
            await GetAsync(client, uri);
        }

        Interlocked.Exchange(ref earlyData, 0);
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var resumed = 0;
        for (var i = 0; i < connections; i++)
        {
            resumed += await GetAsync(client, uri) == "1" ? 1 : 0;
        }

        var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        self.Refresh();
        var microseconds = (self.TotalProcessorTime - cpu).TotalMicroseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{microseconds / connections:F1} {(double)bytes / connections:F0} {resumed} {Interlocked.Read(ref earlyData)}"));
    }

    private static async Task<string> GetAsync(HttpClient client, Uri uri)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.ConnectionClose = true;
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
