using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>One measurement; <paramref name="RepeatedTags"/> names the tags it carried more than once.</summary>
internal sealed record MeasurementRecord(
    string Instrument, long Value, IReadOnlyDictionary<string, object?> Tags, double Recorded = 0, IReadOnlyList<string>? RepeatedTags = null);

/// <summary>
/// Listens to the instruments of one meter factory's meters (other test apps in the process have their own), the
/// transport's unless others are named, and keeps every measurement. A histogram's measurement counts as 1, its value
/// kept in <see cref="MeasurementRecord.Recorded"/>.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<MeasurementRecord> _measurements = new();
    private readonly SemaphoreSlim _recorded = new(0);

    public MetricsCollector(IMeterFactory scope, params string[] meters)
    {
        string[] names = meters.Length == 0 ? [FastOpenMetrics.MeterName] : meters;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == scope && names.Contains(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, 1, tags, value));
        _listener.Start();
    }

    public IReadOnlyList<MeasurementRecord> Measurements => [.. _measurements];

    /// <summary>Collects the observable instruments once, now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    /// <summary>The sum of an instrument's measurements whose tags include every given tag.</summary>
    public long Sum(string instrument, params (string Key, object Value)[] tags) =>
        Measurements
            .Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))
            .Sum(m => m.Value);

    /// <summary>How many measurements an instrument recorded (for a histogram, how many things it timed).</summary>
    public int Count(string instrument) => Measurements.Count(m => m.Instrument == instrument);

    /// <summary>One tag's value in each of an instrument's measurements, in the order they were recorded.</summary>
    public IReadOnlyList<object?> TagValues(string instrument, string tag) =>
        [.. Measurements.Where(m => m.Instrument == instrument).Select(m => m.Tags.GetValueOrDefault(tag))];

    /// <summary>Waits until <paramref name="reached"/> holds, checking after each measurement; false when the timeout ends first.</summary>
    public Task<bool> WaitUntilAsync(Func<MetricsCollector, bool> reached, TimeSpan timeout, CancellationToken cancellationToken) =>
        Bounded.UntilSignalledAsync(() => reached(this), _recorded, timeout, cancellationToken);

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, double recorded = 0)
    {
        var copy = new Dictionary<string, object?>();
        List<string>? repeated = null;
        foreach (var tag in tags)
        {
            if (!copy.TryAdd(tag.Key, tag.Value))
            {
                (repeated ??= []).Add(tag.Key);
            }
        }

        _measurements.Enqueue(new MeasurementRecord(instrument.Name, value, copy, recorded, repeated));
        _recorded.Release();
    }
}
