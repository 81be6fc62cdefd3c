using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using KestrelTfo.Fleet.Internal;

namespace KestrelTfo.Fleet;

/// <summary>
/// One instance of the app, in a network namespace of its own. Its keys (cookie keys, and TLS ticket keys when the fleet
/// serves HTTPS) live in <c>appsettings.Production.json</c> in its content root, which the app reloads on change, so keys
/// change without a restart, and a restarted instance comes back with the keys it had.
/// </summary>
public sealed partial class FleetInstance : IDisposable
{
    private const string KeysFile = "appsettings.Production.json";
    private const string Rejected = "Rejected the reloaded";
    private static readonly TimeSpan s_reloadTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(40);

    private readonly FleetOptions _options;
    private readonly string? _certificatePath;
    private AppProcess? _process;

    internal FleetInstance(int index, FleetNamespace ns, FleetOptions options, string contentRoot, string cookieKey, string? ticketKey, string? certificatePath)
    {
        Index = index;
        Namespace = ns;
        _options = options;
        _certificatePath = certificatePath;
        ContentRoot = contentRoot;
        Directory.CreateDirectory(contentRoot);

        // The app's own settings (logging, queue length) beside the keys, as its content root would hold them.
        var appSettings = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.AppPath))!, "appsettings.json");
        if (File.Exists(appSettings))
        {
            File.Copy(appSettings, Path.Combine(contentRoot, "appsettings.json"));
        }

        CookieKey = cookieKey;
        TicketKey = ticketKey;
        WriteKeys();
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
    public string CookieKey { get; private set; }

    /// <summary>Gets the backup cookie key in force, if any.</summary>
    public string? BackupCookieKey { get; private set; }

    /// <summary>Gets the TLS ticket key in force, or null when the fleet serves no HTTPS.</summary>
    public string? TicketKey { get; private set; }

    /// <summary>Gets the backup TLS ticket key in force, if any.</summary>
    public string? BackupTicketKey { get; private set; }

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
        if (cookieKey == CookieKey && backupCookieKey == BackupCookieKey)
        {
            return;
        }

        var line = await ReloadAsync(
            () => (CookieKey, BackupCookieKey) = (cookieKey, backupCookieKey),
            l => l.Contains("cookie keys (", StringComparison.Ordinal),
            cancellationToken).ConfigureAwait(false);
        var applied = AppliedPattern().Match(line);
        if (!applied.Success || applied.Groups[1].Value != applied.Groups[2].Value)
        {
            throw new InvalidOperationException($"instance {Index} did not apply the new keys to every listener: {line}");
        }
    }

    /// <summary>
    /// Changes the TLS ticket keys as <see cref="SetCookieKeysAsync"/> changes the cookie keys, and waits, bounded, until
    /// the app says its TLS endpoints use them.
    /// </summary>
    /// <param name="ticketKey">The new <c>TicketKey</c>.</param>
    /// <param name="backupTicketKey">The new <c>BackupTicketKey</c>, or null for none.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the app has applied the keys.</returns>
    /// <exception cref="InvalidOperationException">The fleet serves no HTTPS, or the app is stopped or rejected the keys.</exception>
    /// <exception cref="TimeoutException">The app did not say it applied them in time.</exception>
    public async Task SetTicketKeysAsync(string ticketKey, string? backupTicketKey, CancellationToken cancellationToken)
    {
        if (TicketKey is null)
        {
            throw new InvalidOperationException("the fleet serves no HTTPS: set FleetOptions.HttpsPort");
        }

        if (ticketKey == TicketKey && backupTicketKey == BackupTicketKey)
        {
            return;
        }

        await ReloadAsync(
            () => (TicketKey, BackupTicketKey) = (ticketKey, backupTicketKey),
            l => l.Contains("Applied reloaded TLS ticket keys", StringComparison.Ordinal),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Kills the app, if it runs.</summary>
    public void Dispose()
    {
        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// Starts the app and waits, bounded, until it says it listens with TCP Fast Open on (and, with HTTPS, that the TLS
    /// layer serves the endpoint with early data on).
    /// </summary>
    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException($"instance {Index} is running");
        }

        _process?.Dispose();
        _process = AppProcess.Start(
            "ip",
            ["netns", "exec", Namespace.Name, _options.DotNetHost, Path.GetFullPath(_options.AppPath), .. Endpoints(),
                "--contentRoot", ContentRoot, "--environment", "Production"],
            ContentRoot);

        // The transport's one line per listener says whether TCP Fast Open, and a configured key, took effect.
        var listening = await WaitForStartLineAsync("with TCP Fast Open ", cancellationToken).ConfigureAwait(false);
        if (!listening.Contains("with TCP Fast Open on (", StringComparison.Ordinal) || !listening.Contains("cookie keys: configured", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"instance {Index} listens without TCP Fast Open or without its configured key: {listening}");
        }

        if (_options.HttpsPort is not null)
        {
            var tls = await WaitForStartLineAsync("is served by the TLS layer on OpenSSL", cancellationToken).ConfigureAwait(false);
            if (!tls.Contains("TLS early data: on", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"instance {Index} serves HTTPS without early data: {tls}");
            }
        }

        // Both lines come as each endpoint is set up; only once every endpoint listens does the host say it started, and an
        // instance put back into the balancer before then refuses the HTTPS connections it is sent.
        await WaitForStartLineAsync("Application started", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the app as an orchestrator would (SIGTERM: it finishes the requests it has), bounded.</summary>
    internal Task StopAsync(CancellationToken cancellationToken) =>
        _process is { } process ? process.StopAsync(s_stopTimeout, cancellationToken) : Task.CompletedTask;

    // Endpoints on the command line, which the app does not reload, so that rewriting the keys file never rebinds them.
    // Configured endpoints override --urls, so with HTTPS the plain one is configured too.
    private IEnumerable<string> Endpoints()
    {
        var http = string.Create(CultureInfo.InvariantCulture, $"http://0.0.0.0:{_options.Port}");
        if (_options.HttpsPort is not { } httpsPort)
        {
            return ["--urls", http];
        }

        return
        [
            $"--Kestrel:Endpoints:Http:Url={http}",
            string.Create(CultureInfo.InvariantCulture, $"--Kestrel:Endpoints:Https:Url=https://0.0.0.0:{httpsPort}"),
            $"--Kestrel:Endpoints:Https:Certificate:Path={_certificatePath}",
            $"--{FastOpenTransportOptions.ConfigurationSectionName}:{nameof(FastOpenTransportOptions.TlsEarlyData)}=true",
        ];
    }

    private async Task<string> WaitForStartLineAsync(string text, CancellationToken cancellationToken) =>
        await _process!.WaitForLineAsync(0, l => l.Contains(text, StringComparison.Ordinal), _options.StartTimeout, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"instance {Index} did not start listening within {_options.StartTimeout.TotalSeconds} s:\n{_process.Output}");

    /// <summary>Makes a change to the keys, writes them, and waits, bounded, for the app's line that it applied them.</summary>
    private async Task<string> ReloadAsync(Action change, Func<string, bool> applied, CancellationToken cancellationToken)
    {
        var process = _process is { HasExited: false } running ? running : throw new InvalidOperationException($"instance {Index} is not running");
        var mark = process.LineCount;
        change();
        WriteKeys();
        var line = await process.WaitForLineAsync(mark, l => applied(l) || l.Contains(Rejected, StringComparison.Ordinal), s_reloadTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw new TimeoutException($"instance {Index} did not say within {s_reloadTimeout.TotalSeconds} s that it applied the new keys:\n{process.Output}");
        return line.Contains(Rejected, StringComparison.Ordinal)
            ? throw new InvalidOperationException($"instance {Index} rejected the new keys: {line}")
            : line;
    }

    private void WriteKeys()
    {
        var keys = new Dictionary<string, string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                keys[name] = value;
            }
        }

        Add(nameof(FastOpenTransportOptions.CookieKey), CookieKey);
        Add(nameof(FastOpenTransportOptions.BackupCookieKey), BackupCookieKey);
        Add(nameof(FastOpenTransportOptions.TicketKey), TicketKey);
        Add(nameof(FastOpenTransportOptions.BackupTicketKey), BackupTicketKey);
        object settings = keys;
        foreach (var section in Enumerable.Reverse(FastOpenTransportOptions.ConfigurationSectionName.Split(':')))
        {
            settings = new Dictionary<string, object> { [section] = settings };
        }

        var json = JsonSerializer.Serialize(settings);
        var path = Path.Combine(ContentRoot, KeysFile);
        var temporary = path + ".new";
        File.WriteAllText(temporary, json);
        File.Move(temporary, path, overwrite: true);
    }

    [GeneratedRegex(@"to (\d+) of (\d+) listener", RegexOptions.CultureInvariant)]
    private static partial Regex AppliedPattern();
}
