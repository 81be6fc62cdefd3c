using System.Diagnostics;
using KestrelTfo.NetEmu;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The proxy's part of a proxied connection that was spent reaching the backend, from the link between the two: from
/// the proxy's SYN leaving to the backend's first response byte reaching the proxy.
/// </summary>
internal static class BackendLeg
{
    /// <summary>
    /// Finds the one backend connection the proxy opened while the client's connection was timed, and how long it took
    /// to its response reaching the proxy, in milliseconds.
    /// </summary>
    /// <param name="timing">The client's connection.</param>
    /// <param name="backendTrace">The link behind the proxy.</param>
    /// <param name="clientTrace">
    /// The client's link, which tells when the proxy's answer left: the backend's response is the last of its data to
    /// reach the proxy before that. Over TLS the backend's first data is its handshake flight, and a ticket it sends
    /// after the response comes after the answer left. Without it, the client's first byte stands for that moment.
    /// </param>
    /// <returns>
    /// The time, or <see langword="null"/> when the trace does not show exactly one new connection with a response in
    /// the window (a reused connection, or segments the trace missed), or shows a retransmission.
    /// </returns>
    public static double? Of(FirstByteTiming timing, IEnumerable<TracedSegment> backendTrace, IEnumerable<TracedSegment>? clientTrace = null)
    {
        var segments = backendTrace.Where(s => s.Significant && s.Taken >= timing.Opened && s.Delivered <= timing.FirstByte).ToArray();
        var syns = segments.Where(s => s.ToServer && s.Syn).ToArray();
        if (syns.Length != 1)
        {
            return null;
        }

        var port = syns[0].ClientPort;
        var connection = segments.Where(s => s.ClientPort == port).ToArray();
        if (connection.CountBy(s => (s.ToServer, s.Sequence)).Any(sent => sent.Value > 1))
        {
            return null;
        }

        var answer = clientTrace?
            .Where(s => !s.ToServer && s.ClientPort == timing.ClientPort && s.PayloadLength > 0 && s.Delivered <= timing.FirstByte)
            .MaxBy(s => s.Delivered);
        var answered = answer is { PayloadLength: > 0 } sent ? sent.Taken : timing.FirstByte;
        var response = connection.Where(s => !s.ToServer && s.PayloadLength > 0 && s.Delivered <= answered).MaxBy(s => s.Delivered);
        return response.PayloadLength > 0 ? Stopwatch.GetElapsedTime(syns[0].Taken, response.Delivered).TotalMilliseconds : null;
    }
}
