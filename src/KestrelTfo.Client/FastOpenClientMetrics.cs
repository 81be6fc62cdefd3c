namespace KestrelTfo.Client;

/// <summary>
/// The TCP Fast Open client's metrics (<see cref="System.Diagnostics.Metrics"/>), published on the meter named
/// <see cref="MeterName"/>. Watch them with <c>dotnet-counters monitor --counters KestrelTfo.Client</c> or any OpenTelemetry
/// exporter (<c>AddMeter(FastOpenClientMetrics.MeterName)</c>).
/// </summary>
/// <remarks>
/// <para>Every instrument carries <c>server.address</c> and <c>server.port</c> (the address connected to) and
/// <c>kestreltfo.client.outcome</c>, what became of the connection's first write:</para>
/// <list type="bullet">
/// <item><c>syn_data_accepted</c>: it rode in the SYN and the server acknowledged it there; the round trip was saved.</item>
/// <item><c>cookie_requested</c>: the first connection to this server from this machine: the SYN fetched a cookie, and
/// the data followed the handshake.</item>
/// <item><c>not_safe</c>: the first write was not exactly one request that is safe to repeat, so it waited for the
/// handshake.</item>
/// <item><c>fallback</c>: it would have been safe, but went after the handshake: TCP Fast Open is unavailable here, the
/// server did not take the SYN's data (no TCP Fast Open there, a stale cookie, a listener that refuses plaintext early
/// data), the SYN with data went unanswered and was sent again without it, or an earlier address of the host failed.</item>
/// <item><c>race_won_by_plain</c>: with <see cref="FastOpenConnectOptions.FallbackDelay"/>, the connection without TCP
/// Fast Open was established first.</item>
/// <item><c>unknown</c>: the platform does not say what became of the SYN's data (macOS, Windows).</item>
/// </list>
/// <para>The instruments:</para>
/// <list type="bullet">
/// <item><c>kestreltfo.client.connections</c> (counter, <c>{connection}</c>): connections opened.</item>
/// <item><c>kestreltfo.client.syn_data.bytes</c> (counter, <c>By</c>): bytes sent in SYNs, for the connections whose SYN
/// carried data (<c>syn_data_accepted</c>, and <c>fallback</c> when the server refused them): the first write, or the one
/// segment of it the kernel puts in a SYN when it is longer (Linux: the path's MSS less 40 bytes, at most 4096).</item>
/// <item><c>kestreltfo.client.connect.duration</c> (histogram, <c>s</c>): from the first write until the connection was
/// established and the first write handed to it.</item>
/// </list>
/// <para>Nothing is computed, and no <c>TCP_INFO</c> read, for an instrument no listener has enabled.</para>
/// </remarks>
public static class FastOpenClientMetrics
{
    /// <summary>The name of the client's meter: <c>KestrelTfo.Client</c>.</summary>
    public const string MeterName = "KestrelTfo.Client";
}
