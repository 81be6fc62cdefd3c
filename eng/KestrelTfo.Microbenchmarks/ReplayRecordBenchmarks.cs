using BenchmarkDotNet.Attributes;
using KestrelTfo.Tls;

namespace KestrelTfo.Microbenchmarks;

/// <summary>
/// The TLS layer's replay record (<see cref="TlsAntiReplay"/>) in the steady state of 10,000 0-RTT handshakes a second:
/// each decision hashes a 0-RTT ClientHello's pre_shared_key extension, drops what the 15 s window has passed, and
/// records it. The clock is the benchmark's own and moves 100 µs per handshake, so the record holds what 15 s of that
/// rate leave in it (150,000), however fast the machine runs the loop.
/// </summary>
[MemoryDiagnoser]
public class ReplayRecordBenchmarks
{
    private const int HandshakesPerSecond = 10_000;

    // Distinct extensions, more than the window holds, so every decision is a new ClientHello.
    private const int Distinct = 1 << 18;

    private byte[][] _extensions = null!;
    private TlsAntiReplay _record = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        // About the size OpenSSL's client sends: a ticket of about 200 bytes, its age, and a 32-byte binder.
        var random = new Random(7);
        _extensions = new byte[Distinct][];
        for (var i = 0; i < Distinct; i++)
        {
            random.NextBytes(_extensions[i] = new byte[250]);
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        _record = new TlsAntiReplay(new SteppingClock(HandshakesPerSecond));
        for (var i = 0; i < HandshakesPerSecond * (int)(TlsAntiReplay.Window.TotalSeconds + 1); i++)
        {
            Decide();
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// ReplayRecord at {HandshakesPerSecond:N0} 0-RTT handshakes/s: {_record.Count:N0} remembered, {(after - before) / 1024.0 / 1024.0:F1} MiB");
    }

    /// <summary>One 0-RTT handshake's decision: accepted, and recorded.</summary>
    [Benchmark]
    public bool Decide() => _record.Decide(_extensions[_next++ & (Distinct - 1)], keysPredateStart: false) == TlsEarlyDataOutcome.Accepted;

    /// <summary>A clock that moves one handshake's share of a second each time it is read.</summary>
    private sealed class SteppingClock(int perSecond) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _now += TimeSpan.TicksPerSecond / perSecond;
    }
}
