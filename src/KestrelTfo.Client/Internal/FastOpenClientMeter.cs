using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;

namespace KestrelTfo.Client.Internal;

/// <summary>The instruments <see cref="FastOpenClientMetrics"/> describes, and the code that records them.</summary>
internal sealed class FastOpenClientMeter
{
    // Without a host's meter factory, every connector records on this one meter, which lives as long as the process.
    private static readonly Lazy<FastOpenClientMeter> s_shared = new(() => new FastOpenClientMeter(new Meter(FastOpenClientMetrics.MeterName)));

    private readonly Counter<long> _connections;
    private readonly Counter<long> _synDataBytes;
    private readonly Histogram<double> _connectDuration;
    private readonly Counter<long> _earlyData;
    private readonly Counter<long> _earlyDataResent;

    private FastOpenClientMeter(Meter meter)
    {
        _connections = meter.CreateCounter<long>("kestreltfo.client.connections", "{connection}", "Connections the TCP Fast Open client opened, by what became of their first write.");
        _synDataBytes = meter.CreateCounter<long>("kestreltfo.client.syn_data.bytes", "By", "Bytes the TCP Fast Open client sent in SYNs.");
        _connectDuration = meter.CreateHistogram<double>(
            "kestreltfo.client.connect.duration", "s", "From a connection's first write until it was established with that write handed to it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10] });
        _earlyData = meter.CreateCounter<long>(
            "kestreltfo.client.tls.early_data", "{connection}", "Connections of the client's own TLS, by what became of their first request: sent as early data (accepted, declined) or not.");
        _earlyDataResent = meter.CreateCounter<long>(
            "kestreltfo.client.tls.early_data.resent", "{request}", "First requests the server declined as early data, sent again after the handshake.");
    }

    /// <summary>Whether any instrument is listened to, so that the connector reads <c>TCP_INFO</c> for it.</summary>
    public bool Enabled => _connections.Enabled || _synDataBytes.Enabled || _connectDuration.Enabled;

    /// <param name="meterFactory">The host's meter factory; without one, the process's shared meter.</param>
    public static FastOpenClientMeter Create(IMeterFactory? meterFactory) =>
        meterFactory is null ? s_shared.Value : new FastOpenClientMeter(meterFactory.Create(FastOpenClientMetrics.MeterName));

    public void EarlyData(IPEndPoint server, ClientEarlyDataOutcome outcome, bool resent)
    {
        if (!_earlyData.Enabled && !_earlyDataResent.Enabled)
        {
            return;
        }

        var tags = Tags(server, "kestreltfo.client.tls.early_data.outcome", Name(outcome));
        _earlyData.Add(1, tags);
        if (resent)
        {
            _earlyDataResent.Add(1, tags);
        }
    }

    public void ConnectionOpened(IPEndPoint server, FastOpenClientOutcome outcome, int synDataBytes, TimeSpan duration)
    {
        if (!Enabled)
        {
            return;
        }

        var tags = Tags(server, "kestreltfo.client.outcome", Name(outcome));
        _connections.Add(1, tags);
        if (synDataBytes > 0)
        {
            _synDataBytes.Add(synDataBytes, tags);
        }

        _connectDuration.Record(duration.TotalSeconds, tags);
    }

    private static TagList Tags(IPEndPoint server, string outcomeTag, string outcome) => new()
    {
        { "server.address", server.Address.ToString() },
        { "server.port", server.Port },
        { outcomeTag, outcome },
    };

    private static string Name(ClientEarlyDataOutcome outcome) => outcome switch
    {
        ClientEarlyDataOutcome.Accepted => "accepted",
        ClientEarlyDataOutcome.Declined => "declined",
        ClientEarlyDataOutcome.NoSession => "no_session",
        _ => "not_safe",
    };

    private static string Name(FastOpenClientOutcome outcome) => outcome switch
    {
        FastOpenClientOutcome.SynDataAccepted => "syn_data_accepted",
        FastOpenClientOutcome.CookieRequested => "cookie_requested",
        FastOpenClientOutcome.NotSafe => "not_safe",
        FastOpenClientOutcome.Fallback => "fallback",
        FastOpenClientOutcome.RaceWonByPlain => "race_won_by_plain",
        _ => "unknown",
    };
}
