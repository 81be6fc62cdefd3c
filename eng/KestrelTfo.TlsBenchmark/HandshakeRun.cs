using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One run of <c>openssl s_time</c> against one endpoint (sequential connections, each a handshake and one GET of
/// <c>/</c>, new sessions or resumed ones), and the server's CPU time over it (this process's, which does nothing else).
/// </summary>
internal sealed partial record HandshakeRun(string Stack, bool Resumed, long Connections, TimeSpan Elapsed, TimeSpan ServerCpu)
{
    public double PerSecond => Connections / Elapsed.TotalSeconds;

    public double ServerCpuMicrosecondsPerHandshake => ServerCpu.TotalMicroseconds / Connections;

    public static async Task<HandshakeRun> RunAsync(string stack, IPEndPoint server, bool resumed, int seconds)
    {
        var run = await ClientProcess.RunAsync(
            "openssl", ["s_time", "-connect", server.ToString(), "-www", "/", resumed ? "-reuse" : "-new", "-time", seconds.ToString(CultureInfo.InvariantCulture)]);

        // "12345 connections in 5.01s; 2464.07 connections/user sec, bytes read 24690"
        var match = ConnectionsLine().Match(run.Output);
        if (run.ExitCode != 0 || !match.Success)
        {
            throw new InvalidOperationException($"openssl s_time against {stack} exited {run.ExitCode}: {run.Output}");
        }

        return new HandshakeRun(stack, resumed, long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), run.Elapsed, run.ServerCpu);
    }

    [GeneratedRegex(@"(\d+) connections in [\d.]+s;")]
    private static partial Regex ConnectionsLine();
}
