using KestrelTfo.Client.Internal;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Collects what a <c>KestrelTfo.Client</c> connector logs, and reads from it how each connection opened.
/// </summary>
internal sealed class ClientLog : IDisposable
{
    private static readonly int s_fastOpenConnected = LogEvents.Client(nameof(FastOpenClientLog.FastOpenConnected)).Id;
    private static readonly int s_connectedNormally = LogEvents.Client(nameof(FastOpenClientLog.ConnectedNormally)).Id;

    private readonly LogCollector _collector = new();

    public ClientLog() =>
        Factory = LoggerFactory.Create(logging => logging.AddProvider(_collector).SetMinimumLevel(LogLevel.Debug));

    public ILoggerFactory Factory { get; }

    public IReadOnlyList<LogEntry> Entries => [.. _collector.Entries.Where(e => e.Category == FastOpenClientLog.Category)];

    /// <summary>
    /// One entry per connection, in order: the kernel's verdict on a TFO connection (<c>DataAccepted</c>,
    /// <c>CookieRequested</c>, <c>DataNotAccepted</c>, ...), or <c>Normal</c> for one that connected first.
    /// </summary>
    public IReadOnlyList<string> Connections =>
    [
        .. Entries
            .Where(e => e.EventId.Id == s_fastOpenConnected || e.EventId.Id == s_connectedNormally)
            .Select(e => e.EventId.Id == s_connectedNormally ? "Normal" : e.Message[(e.Message.LastIndexOf(' ') + 1)..].TrimEnd('.')),
    ];

    /// <summary>The entries of the client log's event <paramref name="method"/> (a method of <c>FastOpenClientLog</c>).</summary>
    public IReadOnlyList<LogEntry> WithEvent(string method)
    {
        var id = LogEvents.Client(method).Id;
        return [.. Entries.Where(e => e.EventId.Id == id)];
    }

    public void Dispose() => Factory.Dispose();
}
