using System.Globalization;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One client CPU run: the benchmark's own process started as <see cref="ClientCpuLoop"/> against one endpoint, and what
/// it measured of itself: CPU microseconds and bytes allocated per new connection, and how many of its measured
/// connections resumed and sent their GET as early data.
/// </summary>
internal sealed record ClientCpuRun(bool OwnTls, double CpuMicrosecondsPerConnection, double BytesPerConnection, int Resumed, long EarlyData)
{
    public string Client => OwnTls ? "own TLS (FastOpenHttpsHandler, early data)" : "SslStream (SocketsHttpHandler)";

    public static async Task<ClientCpuRun> RunAsync(bool ownTls, int port, string certificateHash, int warmup, int connections)
    {
        var run = await ClientProcess.RunSelfAsync(
            [ClientCpuLoop.Argument, ownTls ? "own" : "sslstream", port.ToString(CultureInfo.InvariantCulture), certificateHash, warmup.ToString(CultureInfo.InvariantCulture), connections.ToString(CultureInfo.InvariantCulture)]);
        var fields = run.StandardOutput.Trim().Split(' ');
        if (run.ExitCode != 0 || fields.Length != 4)
        {
            throw new InvalidOperationException($"the client exited {run.ExitCode}: {run.Output}");
        }

        return new ClientCpuRun(
            ownTls,
            double.Parse(fields[0], CultureInfo.InvariantCulture),
            double.Parse(fields[1], CultureInfo.InvariantCulture),
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            long.Parse(fields[3], CultureInfo.InvariantCulture));
    }
}
