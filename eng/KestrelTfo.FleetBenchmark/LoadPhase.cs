using System.Collections.Concurrent;
using System.Diagnostics;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// One stretch of the load (steady, an instance's restart, a rotation step): the new connections started in it, and
/// what became of them.
/// </summary>
internal sealed class LoadPhase(string name)
{
    private const int KeptErrors = 5;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<string> _errors = new();
    private long _connections;
    private long _failed;
    private long _saved;
    private TimeSpan? _elapsed;

    public string Name { get; } = name;

    public long Connections => Interlocked.Read(ref _connections);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Answered connections that saved their round trip: the request rode in the SYN, or in accepted TLS early data.</summary>
    public long Saved => Interlocked.Read(ref _saved);

    public TimeSpan Elapsed => _elapsed ?? _clock.Elapsed;

    /// <summary>Connections the instances accepted under their backup key (<c>TCPFastOpenPassiveAltKey</c>, summed).</summary>
    public long AlternateKey { get; set; }

    public IEnumerable<string> Errors => _errors;

    public void Succeeded(bool saved)
    {
        Interlocked.Increment(ref _connections);
        if (saved)
        {
            Interlocked.Increment(ref _saved);
        }
    }

    public void Fail(string error)
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _failed);
        if (_errors.Count < KeptErrors)
        {
            _errors.Enqueue(error);
        }
    }

    public void End() => _elapsed ??= _clock.Elapsed;
}
