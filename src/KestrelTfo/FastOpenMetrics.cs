namespace KestrelTfo;

/// <summary>
/// The transport's metrics (<see cref="System.Diagnostics.Metrics"/>), published on the meter named
/// <see cref="MeterName"/>. Watch them with <c>dotnet-counters monitor --counters KestrelTfo</c> or any
/// OpenTelemetry exporter (<c>AddMeter(FastOpenMetrics.MeterName)</c>).
/// </summary>
/// <remarks>
/// <para>Every listener instrument carries <c>server.address</c>, <c>server.port</c> and <c>network.type</c>
/// (<c>ipv4</c> or <c>ipv6</c>). The instruments:</para>
/// <list type="bullet">
/// <item><c>kestreltfo.connections</c> (counter, <c>{connection}</c>): accepted connections, tagged
/// <c>kestreltfo.fast_open</c> true or false.</item>
/// <item><c>kestreltfo.early_data.connections</c> (counter, <c>{connection}</c>) and
/// <c>kestreltfo.early_data.bytes</c> (counter, <c>By</c>): TCP Fast Open connections and their early-data bytes,
/// tagged <c>kestreltfo.early_data.kind</c>: <c>tls_client_hello</c>, <c>http</c>, <c>http2_preface</c> or
/// <c>unknown</c>.</item>
/// <item><c>kestreltfo.early_data.guard</c> (counter, <c>{connection}</c>): what the early-data guard did, tagged
/// <c>kestreltfo.early_data.action</c>: <c>flagged</c>, <c>deferred</c>, <c>kernel_deferred</c>,
/// <c>deferral_timed_out</c>, <c>deferral_reset</c> (a deferred connection that never completed its handshake,
/// as a replayed SYN does) or <c>debounced</c>.</item>
/// <item><c>kestreltfo.handshake.pending</c> (up-down counter, <c>{connection}</c>): TCP Fast Open connections accepted
/// before their handshake completed and waiting for it, each holding a place in its listener's kernel queue
/// (<see cref="FastOpenTransportOptions.QueueLength"/>).</item>
/// <item><c>kestreltfo.handshake.aborted</c> (counter, <c>{connection}</c>): TCP Fast Open connections reset before their
/// handshake completed, tagged <c>kestreltfo.handshake.abort_reason</c>: <c>timed_out</c>
/// (<see cref="FastOpenTransportOptions.FastOpenHandshakeTimeout"/>) or <c>client_limit</c>
/// (<see cref="FastOpenTransportOptions.MaxPendingHandshakesPerClient"/>).</item>
/// <item><c>kestreltfo.early_data.requests</c> (counter, <c>{request}</c>): requests that may be replays (they arrived
/// before their connection's handshake completed, or with <c>Early-Data: 1</c>), tagged
/// <c>kestreltfo.early_data.handling</c>: <c>run_at_once</c>, <c>wait_for_handshake</c> or <c>too_early</c>, and
/// <c>kestreltfo.early_data.from_proxy</c>. No listener tags. ASP.NET Core's <c>http.server.request.duration</c> of
/// such a request carries <c>kestreltfo.early_data</c> = true.</item>
/// <item><c>kestreltfo.listener.fast_open</c> (observable gauge, <c>{listener}</c>): 1 for a listener that
/// accepts TCP Fast Open now (its socket option is set and the kernel's server bit is on), else 0.</item>
/// <item><c>kestreltfo.kernel.events</c> (observable counter, <c>{event}</c>): the kernel's own TCP Fast Open
/// counters from <c>/proc/net/netstat</c> (Linux), counted from when the app started; the kernel counts per network
/// namespace, so other processes in the app's namespace add to them. Tagged
/// <c>kestreltfo.kernel.counter</c> with the kernel's name, such as <c>TCPFastOpenPassive</c>,
/// <c>TCPFastOpenPassiveFail</c> or <c>TCPFastOpenPassiveAltKey</c>. Read only when a listener collects.</item>
/// </list>
/// <para>Nothing is computed for an instrument no listener has enabled.</para>
/// </remarks>
public static class FastOpenMetrics
{
    /// <summary>The name of the transport's meter: <c>KestrelTfo</c>.</summary>
    public const string MeterName = "KestrelTfo";
}
