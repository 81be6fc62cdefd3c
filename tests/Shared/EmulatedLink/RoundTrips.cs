using KestrelTfo.LatencyBenchmark;
using KestrelTfo.NetEmu;

namespace KestrelTfo.Testing;

/// <summary>
/// How many round trips a connection's first response waited for, counted from the emulated link's segment trace
/// rather than timed: the latency benchmark's walk of the critical path (<see cref="TimeSplit"/>) alternates between
/// the client's and the server's turns, so a first byte after n round trips ends a walk of 2n + 1 turns.
/// </summary>
internal static class RoundTrips
{
    public static int Of(FirstByteTiming timing, IReadOnlyCollection<TracedSegment> trace)
    {
        var split = TimeSplit.Of(timing, trace);
        Assert.True(split is not null, $"the trace of client port {timing.ClientPort} does not lead back from the first byte to the SYN: {Describe(timing, trace)}");
        return (split.Turns.Count - 1) / 2;
    }

    private static string Describe(FirstByteTiming timing, IEnumerable<TracedSegment> trace) =>
        string.Join("; ", trace
            .Where(s => s.ClientPort == timing.ClientPort)
            .OrderBy(s => s.Delivered)
            .Select(s => FormattableString.Invariant(
                $"{(s.ToServer ? ">" : "<")}{(s.Syn ? "SYN " : "")}seq {s.Sequence} len {s.PayloadLength} taken {(s.Taken - timing.Opened) * 1000.0 / System.Diagnostics.Stopwatch.Frequency:F1} ms delivered {(s.Delivered - timing.Opened) * 1000.0 / System.Diagnostics.Stopwatch.Frequency:F1} ms")))
            + FormattableString.Invariant($"; first byte {(timing.FirstByte - timing.Opened) * 1000.0 / System.Diagnostics.Stopwatch.Frequency:F1} ms");
}
