using System.Diagnostics;
using System.Globalization;

namespace KestrelTfo.Fleet.Internal;

/// <summary>
/// A long-running process (an instance of the app, a TLS client): what it writes is kept line by line, so a caller can
/// wait, bounded, for a line written after a point, and answer it on standard input; it stops gracefully on request and
/// is killed when disposed.
/// </summary>
internal sealed class AppProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private TaskCompletionSource _written = NewSignal();

    // Standard output and error, until each is read to its end: only then has every line the process wrote been seen.
    private int _openStreams = 2;

    private AppProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>How many lines it has written so far: a mark to wait for later lines from.</summary>
    public int LineCount
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the process; with <paramref name="input"/> its standard input stays open for <see cref="CloseInputAsync"/>.</summary>
    public static AppProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, bool input = false)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new AppProcess(Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start"));
    }

    /// <summary>
    /// Waits until a line from <paramref name="fromLine"/> on matches and returns it; null when the process ends or the
    /// time runs out first. The process's end counts once all it wrote has been read: it may exit just after writing
    /// the line (s_client does, when the server answers early data and closes), before the line has reached this process.
    /// </summary>
    public async Task<string?> WaitForLineAsync(int fromLine, Func<string, bool> match, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            Task written;
            bool ended;
            lock (_lines)
            {
                for (var i = fromLine; i < _lines.Count; i++)
                {
                    if (match(_lines[i]))
                    {
                        return _lines[i];
                    }
                }

                fromLine = _lines.Count;
                written = _written.Task;
                ended = _openStreams == 0;
            }

            // Not HasExited: the process can have exited with lines still on their way through the pipes.
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || ended)
            {
                return null;
            }

            try
            {
                // Signalled by each line and by the end of each stream, which comes when the process exits.
                await written.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // One more look at the lines, then null.
            }
        }
    }

    /// <summary>Writes <paramref name="text"/> to the process's standard input and closes it.</summary>
    public async Task CloseInputAsync(string text, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
        _process.StandardInput.Close();
    }

    /// <summary>Waits, bounded, for the process to end on its own, with all it wrote read; false when the time ran out.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }

        // The parameterless wait is the one that also waits for the redirected output to be read to its end.
        _process.WaitForExit();
        return true;
    }

    /// <summary>Asks the process to stop (SIGTERM, so the app drains its connections) and waits, bounded, then kills it.</summary>
    public async Task StopAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        if (_process.HasExited)
        {
            return;
        }

        await FleetCommand.RunAsync("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)], FleetCommand.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"process {Id} did not stop within {limit.TotalSeconds:0.#} s of SIGTERM, so it was killed");
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Kill()
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
    }

    /// <summary>One line, or null at the end of a stream (the event's last call for it).</summary>
    private void Add(string? line)
    {
        TaskCompletionSource written;
        lock (_lines)
        {
            if (line is null)
            {
                _openStreams--;
            }
            else
            {
                _lines.Add(line);
            }

            written = _written;
            _written = NewSignal();
        }

        written.SetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
