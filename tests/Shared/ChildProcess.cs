using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KestrelTfo.Testing;

/// <summary>
/// A process a test starts (an app, a tool), killed with its children when disposed, even when the test fails; what it
/// writes is kept, and a test can wait, bounded, for a line.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _written = new(0);

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>This runtime's <c>dotnet</c> host.</summary>
    public static string DotNet => Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));

    /// <summary>The repository's root, where the tool manifest and the solution are.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "KestrelTfo.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"no KestrelTfo.sln above {AppContext.BaseDirectory}");
        }
    }

    public int Id => _process.Id;

    /// <summary>Whether the process has ended (a server that failed to start, before it wrote what the caller waits for).</summary>
    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _lines);

    /// <summary>
    /// Starts a process; <paramref name="input"/>, when given, is written to its standard input, which is then closed,
    /// unless <paramref name="holdInput"/>: then it stays open for <see cref="WriteLineAsync"/> (a tool that quits at the
    /// end of its input, as <c>openssl s_server</c> does, keeps running).
    /// </summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, string? input = null, bool holdInput = false)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null || holdInput,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var child = new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start"));
        if (input is not null)
        {
            child._process.StandardInput.Write(input);
        }

        if (input is not null && !holdInput)
        {
            child._process.StandardInput.Close();
        }

        return child;
    }

    /// <summary>
    /// Runs a process to its end, bounded by <paramref name="limit"/> (then it is killed and the wait throws), and returns
    /// its exit code with all it wrote to standard output and error.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan limit, CancellationToken cancellationToken, string? input = null)
    {
        using var child = Start(fileName, arguments, input: input);
        var exitCode = await child.WaitForExitAsync(limit, cancellationToken);
        return (exitCode, child.Output);
    }

    /// <summary>Waits until a line matches, and returns it; null when the process ends or the time runs out first.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan limit, CancellationToken cancellationToken)
    {
        await Bounded.UntilSignalledAsync(() => _process.HasExited || _lines.Any(match), _written, limit, cancellationToken);
        return _lines.FirstOrDefault(match);
    }

    /// <summary>Writes a line to the standard input of a process started with <c>holdInput</c>.</summary>
    public async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken);
        await _process.StandardInput.FlushAsync(cancellationToken);
    }

    /// <summary>Waits for the process to end on its own, bounded, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended on its own meanwhile.
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
            _written.Release();
        }
    }
}
