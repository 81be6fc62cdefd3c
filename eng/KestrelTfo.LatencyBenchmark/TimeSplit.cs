using System.Diagnostics;
using KestrelTfo.NetEmu;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Where one connection's time to first byte went, in milliseconds: to the client, to the server, or to the link
/// between them. The three add up to the whole. <see cref="Turns"/> are the ends' times one by one, in the order they
/// held the critical path from the opening: the client's, the server's, and so on, ending with the client's, so there
/// is an odd number of them (5 for a TFO request over TLS 1.3, 7 without TFO), and they add up to client and server.
/// </summary>
internal sealed record TimeSplit(double Client, double Server, double Link, IReadOnlyList<double> Turns)
{
    /// <summary>
    /// Walks the connection's critical path back from its first response byte, through the segments the link
    /// carried: from a segment's arrival at one side to that side's next segment out, the time is that side's;
    /// from a segment's departure to its arrival it is the link's. So the client holds the time from opening the
    /// connection to its SYN and from the response's arrival to the byte reaching the caller; the server holds the
    /// time from a segment's arrival to its answer (kernel, Kestrel, TLS and the app together). Only SYNs and data
    /// count: a bare ACK answers nothing.
    /// </summary>
    /// <remarks>
    /// A segment that reaches the client right behind the one with the first byte, before the caller has it, is
    /// taken for that one: the time between the two goes to the server. The benchmark's response is one segment.
    /// </remarks>
    /// <returns>
    /// The split, or <see langword="null"/> when the walk cannot be trusted: the trace lacks the response, what the
    /// server answered or the client's SYN, or holds a retransmission, whose timeout would be charged to its sender.
    /// </returns>
    public static TimeSplit? Of(FirstByteTiming timing, IEnumerable<TracedSegment> trace)
    {
        var segments = trace
            .Where(s => s.ClientPort == timing.ClientPort && s.Significant && s.Taken >= timing.Opened && s.Delivered <= timing.FirstByte)
            .ToArray();
        if (segments.CountBy(s => (s.ToServer, s.Sequence)).Any(sent => sent.Value > 1))
        {
            return null;
        }

        long link = 0;
        // Walked backwards, so the last turn comes first; the client's are the even ones once reversed.
        var turns = new List<long>();
        var time = timing.FirstByte;
        var clientHolds = true;
        TracedSegment? previous = null;
        // Each step moves strictly back in time to a segment's departure, so the walk ends within the segment count.
        for (var step = 0; step <= segments.Length; step++)
        {
            // The latest segment to reach the side that holds the time: the one it was answering.
            TracedSegment? latest = null;
            foreach (var segment in segments)
            {
                if (segment.ToServer != clientHolds && segment.Delivered <= time && (latest is null || segment.Delivered > latest.Value.Delivered))
                {
                    latest = segment;
                }
            }

            if (latest is not { } arrived)
            {
                // Only the client's SYN may end the walk: the client opened the connection and sent it.
                if (!clientHolds || previous is not { ToServer: true, Syn: true })
                {
                    return null;
                }

                turns.Add(time - timing.Opened);
                turns.Reverse();
                var client = turns.Where((_, turn) => turn % 2 == 0).Sum();
                var server = turns.Where((_, turn) => turn % 2 == 1).Sum();
                return new TimeSplit(Milliseconds(client), Milliseconds(server), Milliseconds(link), turns.ConvertAll(Milliseconds));
            }

            if (step == 0 && arrived.PayloadLength == 0)
            {
                // The first byte came in data, so a SYN-ACK here means the response is missing.
                return null;
            }

            turns.Add(time - arrived.Delivered);
            link += arrived.Delivered - arrived.Taken;
            time = arrived.Taken;
            clientHolds = !clientHolds;
            previous = arrived;
        }

        return null;
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
