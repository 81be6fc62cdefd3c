using System.Diagnostics;

namespace KestrelTfo.Fleet.Internal;

/// <summary>Runs a command to its end (ip, nft, kill, curl), bounded in time, and keeps what it wrote.</summary>
internal static class FleetCommand
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<FleetCommandResult> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken, string? input = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"`{Describe(fileName, start.ArgumentList)}` ran longer than {timeout.TotalSeconds:0.#} s");
        }

        return new FleetCommandResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Runs the command and throws, with what it said, unless it succeeds.</summary>
    public static async Task<string> RunCheckedAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken, string? input = null)
    {
        var list = arguments.ToList();
        var result = await RunAsync(fileName, list, DefaultTimeout, cancellationToken, input).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"`{Describe(fileName, list)}` failed ({result.ExitCode}): {result.Error.Trim()}{(input is null ? "" : $"\ninput:\n{input}")}");
        }

        return result.Output;
    }

    private static string Describe(string fileName, IEnumerable<string> arguments) => string.Join(' ', [fileName, .. arguments]);
}
