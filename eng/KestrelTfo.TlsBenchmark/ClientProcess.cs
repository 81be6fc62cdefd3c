using System.Diagnostics;
using System.Reflection;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// One load client (<c>wrk</c>, <c>h2load</c>, or this program as a client) run to its end: its exit code, its standard
/// output, all its output (standard error after it), the wall time, and the server's CPU time, managed allocations and
/// thread-pool work items over it (this process's, which does nothing else meanwhile).
/// </summary>
internal sealed record ClientProcess(
    int ExitCode, string StandardOutput, string Output, TimeSpan Elapsed, TimeSpan ServerCpu, long ServerAllocatedBytes, long ServerWorkItems)
{
    public static Task<ClientProcess> RunAsync(string tool, IEnumerable<string> arguments) => RunAsync(Start(tool, arguments));

    /// <summary>This program again, as <c>dotnet KestrelTfo.TlsBenchmark.dll</c> or its app host, with <paramref name="arguments"/>.</summary>
    public static Task<ClientProcess> RunSelfAsync(IEnumerable<string> arguments) => RunAsync(StartSelf(arguments));

    private static ProcessStartInfo StartSelf(IEnumerable<string> arguments)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        return Start(host, Path.GetFileNameWithoutExtension(host) == "dotnet" ? [Assembly.GetEntryAssembly()!.Location, .. arguments] : arguments);
    }

    private static ProcessStartInfo Start(string tool, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static async Task<ClientProcess> RunAsync(ProcessStartInfo start)
    {
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var (allocatedBefore, workItemsBefore) = (GC.GetTotalAllocatedBytes(), ThreadPool.CompletedWorkItemCount);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        clock.Stop();
        self.Refresh();
        return new ClientProcess(
            process.ExitCode, await output, await output + await error, clock.Elapsed, self.TotalProcessorTime - cpuBefore,
            GC.GetTotalAllocatedBytes() - allocatedBefore, ThreadPool.CompletedWorkItemCount - workItemsBefore);
    }
}
