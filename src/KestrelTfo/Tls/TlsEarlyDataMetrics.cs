using System.Diagnostics.Metrics;

namespace KestrelTfo.Tls;

/// <summary>
/// What became of the TLS early data clients offered, on the product's meter (<see cref="FastOpenMetrics.MeterName"/>):
/// <c>kestreltfo.tls.early_data</c>, tagged <c>kestreltfo.tls.early_data.outcome</c>.
/// </summary>
internal sealed class TlsEarlyDataMetrics(IMeterFactory meterFactory)
{
    public const string InstrumentName = "kestreltfo.tls.early_data";
    public const string OutcomeTag = "kestreltfo.tls.early_data.outcome";

    // The factory hands out one meter per name: these instruments sit beside the transport's.
    private readonly Counter<long> _offered = meterFactory.Create(FastOpenMetrics.MeterName).CreateCounter<long>(
        InstrumentName,
        "{handshake}",
        "TLS handshakes whose client offered early data (0-RTT), by what became of it: accepted, or why it was declined.");

    public void Offered(TlsEarlyDataOutcome? outcome)
    {
        if (outcome is { } known && _offered.Enabled)
        {
            _offered.Add(1, new KeyValuePair<string, object?>(OutcomeTag, Name(known)));
        }
    }

    public static string Name(TlsEarlyDataOutcome outcome) => outcome switch
    {
        TlsEarlyDataOutcome.Accepted => "accepted",
        TlsEarlyDataOutcome.Off => "off",
        TlsEarlyDataOutcome.Replay => "replay",
        TlsEarlyDataOutcome.RecordFull => "record_full",
        TlsEarlyDataOutcome.RestartWindow => "restart_window",
        TlsEarlyDataOutcome.DeclinedByOpenSsl => "declined_by_openssl",
        _ => "not_resumed",
    };
}
