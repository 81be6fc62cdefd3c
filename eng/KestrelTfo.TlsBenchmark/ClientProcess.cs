using System.Diagnostics;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One load client (<c>openssl</c>, <c>wrk</c>, <c>h2load</c>) run to its end: its exit code and output, the wall time,
/// and the server's CPU time over it (this process's, which does nothing else meanwhile).
/// </summary>
internal sealed record ClientProcess(int ExitCode, string Output, TimeSpan Elapsed, TimeSpan ServerCpu)
{
    public static async Task<ClientProcess> RunAsync(string tool, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        clock.Stop();
        self.Refresh();
        return new ClientProcess(process.ExitCode, await output + await error, clock.Elapsed, self.TotalProcessorTime - cpuBefore);
    }
}
