using System.ComponentModel;
using System.Diagnostics;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Runs a command-line tool (curl, openssl) to its end, bounded, with optional standard input; skips when it is missing.</summary>
internal static class ToolRun
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string? input = null)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            FastOpenEnvironment.SkipOrFail($"{fileName} cannot be started ({e.Message}); eng/test.sh installs it");
            throw;
        }

        using (process)
        {
            try
            {
                var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
                var error = process.StandardError.ReadToEndAsync(cancellationToken);
                if (input is not null)
                {
                    await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
                    await process.StandardInput.FlushAsync(cancellationToken);
                }

                process.StandardInput.Close();
                try
                {
                    await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                }
                catch (TimeoutException)
                {
                    // What it wrote until then is what says why it hung.
                    process.Kill();
                    await process.WaitForExitAsync(cancellationToken);
                    return (-1, $"{fileName} did not end within 30 s; it wrote: {await output}{await error}");
                }

                return (process.ExitCode, (await output) + (await error));
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }
        }
    }
}
