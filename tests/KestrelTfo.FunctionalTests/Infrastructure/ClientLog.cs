using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// Collects what a <c>KestrelTfo.Client</c> connector logs, and reads from it how each connection opened.
/// </summary>
internal sealed class ClientLog : IDisposable
{
    private const string Category = "KestrelTfo.Client";
    private const int FastOpenConnected = 101;
    private const int ConnectedNormally = 102;

    private readonly LogCollector _collector = new();

    public ClientLog() =>
        Factory = LoggerFactory.Create(logging => logging.AddProvider(_collector).SetMinimumLevel(LogLevel.Debug));

    public ILoggerFactory Factory { get; }

    public IReadOnlyList<LogEntry> Entries => [.. _collector.Entries.Where(e => e.Category == Category)];

    /// <summary>
    /// One entry per connection, in order: the kernel's verdict on a TFO connection (<c>DataAccepted</c>,
    /// <c>CookieRequested</c>, <c>DataNotAccepted</c>, ...), or <c>Normal</c> for one that connected first.
    /// </summary>
    public IReadOnlyList<string> Connections =>
    [
        .. Entries
            .Where(e => e.EventId.Id is FastOpenConnected or ConnectedNormally)
            .Select(e => e.EventId.Id == ConnectedNormally ? "Normal" : e.Message[(e.Message.LastIndexOf(' ') + 1)..].TrimEnd('.')),
    ];

    public IReadOnlyList<LogEntry> WithId(int id) => [.. Entries.Where(e => e.EventId.Id == id)];

    public void Dispose() => Factory.Dispose();
}
