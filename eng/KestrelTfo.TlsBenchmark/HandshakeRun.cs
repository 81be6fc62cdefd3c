using System.Globalization;
using System.Net;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One run of <see cref="HandshakeLoop"/> against one endpoint (clients that each open one connection at a time, a
/// handshake and one GET of <c>/</c>, full, resumed or without TLS), how many of its connections resumed, and the
/// server's CPU time, managed allocations and thread-pool work items over it (this process's, which does nothing else).
/// </summary>
internal sealed record HandshakeRun(
    string Stack, string Mode, int Clients, long Connections, long ResumedConnections, TimeSpan Elapsed, TimeSpan ServerCpu, long ServerAllocatedBytes, long ServerWorkItems)
{
    public double PerSecond => Connections / Elapsed.TotalSeconds;

    public double ServerCpuMicrosecondsPerHandshake => ServerCpu.TotalMicroseconds / Connections;

    public double ServerBytesPerHandshake => (double)ServerAllocatedBytes / Connections;

    public double ServerWorkItemsPerHandshake => (double)ServerWorkItems / Connections;

    public static async Task<HandshakeRun> RunAsync(string stack, IPEndPoint server, string certificateHash, string mode, int seconds, int clients = 1)
    {
        var run = await ClientProcess.RunSelfAsync(
            [HandshakeLoop.Argument, server.Port.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture), mode, certificateHash, clients.ToString(CultureInfo.InvariantCulture)]);
        var fields = run.StandardOutput.Trim().Split(' ');
        if (run.ExitCode != 0 || fields.Length != 3)
        {
            throw new InvalidOperationException($"the handshake client against {stack} exited {run.ExitCode}: {run.Output}");
        }

        // The rate over the client's own seconds: its process's start-up is no handshake time.
        return new HandshakeRun(
            stack, mode, clients, long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(fields[2], CultureInfo.InvariantCulture)), run.ServerCpu, run.ServerAllocatedBytes, run.ServerWorkItems);
    }
}
