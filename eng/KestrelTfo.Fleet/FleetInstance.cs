using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using KestrelTfo.Fleet.Internal;

namespace KestrelTfo.Fleet;

/// <summary>
/// One instance of the app, in a network namespace of its own. Its cookie keys live in <c>appsettings.Production.json</c>
/// in its content root, which the app reloads on change, so keys change without a restart, and a restarted instance
/// comes back with the keys it had.
/// </summary>
public sealed partial class FleetInstance : IDisposable
{
    private const string KeysFile = "appsettings.Production.json";
    private static readonly TimeSpan s_reloadTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(40);

    private readonly FleetOptions _options;
    private AppProcess? _process;

    internal FleetInstance(int index, FleetNamespace ns, FleetOptions options, string contentRoot, string cookieKey)
    {
        Index = index;
        Namespace = ns;
        _options = options;
        ContentRoot = contentRoot;
        Directory.CreateDirectory(contentRoot);

        // The app's own settings (logging, queue length) beside the keys, as its content root would hold them.
        var appSettings = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.AppPath))!, "appsettings.json");
        if (File.Exists(appSettings))
        {
            File.Copy(appSettings, Path.Combine(contentRoot, "appsettings.json"));
        }

        WriteKeys(cookieKey, null);
    }

    /// <summary>Gets the instance's number, from 0.</summary>
    public int Index { get; }

    /// <summary>Gets the instance's own address (what it sees as the server address behind DNAT).</summary>
    public IPAddress Address => FleetAddresses.Instance(Index);

    /// <summary>Gets the instance's network namespace.</summary>
    public FleetNamespace Namespace { get; }

    /// <summary>Gets the app's content root, which holds its configuration files.</summary>
    public string ContentRoot { get; }

    /// <summary>Gets the cookie key in force.</summary>
    public string CookieKey { get; private set; } = "";

    /// <summary>Gets the backup cookie key in force, if any.</summary>
    public string? BackupCookieKey { get; private set; }

    /// <summary>Gets the process id of the running app, or null when it is stopped.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>Gets what the app has written since it last started.</summary>
    public string Output => _process?.Output ?? "";

    /// <summary>
    /// Changes the cookie keys the way an operator would: rewrites the configuration file (whole, by rename, so the app
    /// never reads half a file) and waits, bounded, until the app says it applied them to every listener.
    /// </summary>
    /// <param name="cookieKey">The new <c>CookieKey</c>.</param>
    /// <param name="backupCookieKey">The new <c>BackupCookieKey</c>, or null for none.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the app has applied the keys.</returns>
    /// <exception cref="InvalidOperationException">The app is stopped, rejected the keys, or did not apply them to every listener.</exception>
    /// <exception cref="TimeoutException">The app did not say it applied them in time.</exception>
    public async Task SetCookieKeysAsync(string cookieKey, string? backupCookieKey, CancellationToken cancellationToken)
    {
        var process = _process is { HasExited: false } running ? running : throw new InvalidOperationException($"instance {Index} is not running");
        if (cookieKey == CookieKey && backupCookieKey == BackupCookieKey)
        {
            return;
        }

        var mark = process.LineCount;
        WriteKeys(cookieKey, backupCookieKey);
        var line = await process.WaitForLineAsync(
            mark,
            l => l.Contains("cookie keys (", StringComparison.Ordinal) || l.Contains("Rejected the reloaded", StringComparison.Ordinal),
            s_reloadTimeout,
            cancellationToken).ConfigureAwait(false)
            ?? throw new TimeoutException($"instance {Index} did not say within {s_reloadTimeout.TotalSeconds} s that it applied the new keys:\n{process.Output}");
        var applied = AppliedPattern().Match(line);
        if (!applied.Success || applied.Groups[1].Value != applied.Groups[2].Value)
        {
            throw new InvalidOperationException($"instance {Index} did not apply the new keys to every listener: {line}");
        }
    }

    /// <summary>Kills the app, if it runs.</summary>
    public void Dispose()
    {
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the app and waits, bounded, until it says it listens with TCP Fast Open on.</summary>
    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException($"instance {Index} is running");
        }

        _process?.Dispose();
        _process = AppProcess.Start(
            "ip",
            ["netns", "exec", Namespace.Name, _options.DotNetHost, Path.GetFullPath(_options.AppPath),
                "--urls", string.Create(CultureInfo.InvariantCulture, $"http://0.0.0.0:{_options.Port}"),
                "--contentRoot", ContentRoot, "--environment", "Production"],
            ContentRoot);

        // The transport's one line per listener says whether TCP Fast Open, and a configured key, took effect.
        var listening = await _process.WaitForLineAsync(0, l => l.Contains("with TCP Fast Open ", StringComparison.Ordinal), _options.StartTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"instance {Index} did not start listening within {_options.StartTimeout.TotalSeconds} s:\n{_process.Output}");
        if (!listening.Contains("with TCP Fast Open on (", StringComparison.Ordinal) || !listening.Contains("cookie keys: configured", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"instance {Index} listens without TCP Fast Open or without its configured key: {listening}");
        }
    }

    /// <summary>Stops the app as an orchestrator would (SIGTERM: it finishes the requests it has), bounded.</summary>
    internal Task StopAsync(CancellationToken cancellationToken) =>
        _process is { } process ? process.StopAsync(s_stopTimeout, cancellationToken) : Task.CompletedTask;

    private void WriteKeys(string cookieKey, string? backupCookieKey)
    {
        object settings = backupCookieKey is null
            ? new Dictionary<string, string> { [nameof(FastOpenTransportOptions.CookieKey)] = cookieKey }
            : new Dictionary<string, string> { [nameof(FastOpenTransportOptions.CookieKey)] = cookieKey, [nameof(FastOpenTransportOptions.BackupCookieKey)] = backupCookieKey };
        foreach (var section in Enumerable.Reverse(FastOpenTransportOptions.ConfigurationSectionName.Split(':')))
        {
            settings = new Dictionary<string, object> { [section] = settings };
        }

        var json = JsonSerializer.Serialize(settings);
        var path = Path.Combine(ContentRoot, KeysFile);
        var temporary = path + ".new";
        File.WriteAllText(temporary, json);
        File.Move(temporary, path, overwrite: true);
        CookieKey = cookieKey;
        BackupCookieKey = backupCookieKey;
    }

    [GeneratedRegex(@"to (\d+) of (\d+) listener", RegexOptions.CultureInvariant)]
    private static partial Regex AppliedPattern();
}
