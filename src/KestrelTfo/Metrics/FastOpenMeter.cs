using System.Diagnostics.Metrics;
using KestrelTfo.EarlyData;
using KestrelTfo.Internal;
using KestrelTfo.Platform;

namespace KestrelTfo.Metrics;

/// <summary>The instruments <see cref="FastOpenMetrics"/> describes, and the code that records them.</summary>
internal sealed class FastOpenMeter : IDisposable
{
    /// <summary>Whether a connection used TCP Fast Open: a tag of this meter's connections and of ASP.NET Core's telemetry.</summary>
    public const string FastOpenTag = "kestreltfo.fast_open";

    private static readonly object True = true;
    private static readonly object False = false;

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _connections;
    private readonly Counter<long> _earlyDataConnections;
    private readonly Counter<long> _earlyDataBytes;
    private readonly Counter<long> _guard;
    private readonly UpDownCounter<long> _pending;
    private readonly UpDownCounter<long> _handshakesPending;
    private readonly Counter<long> _handshakesAborted;
    private readonly TcpFastOpenCounters _kernelAtStart;

    /// <param name="meterFactory">The host's meter factory; without one the meter is this object's own.</param>
    /// <param name="listeners">The live listeners, for the per-listener gauge.</param>
    /// <param name="netstat">The kernel's counters, read when the kernel instrument is collected.</param>
    public FastOpenMeter(IMeterFactory? meterFactory, Func<IReadOnlyList<FastOpenConnectionListener>> listeners, LinuxNetstat netstat)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(FastOpenMetrics.MeterName) ?? new Meter(FastOpenMetrics.MeterName);

        _connections = _meter.CreateCounter<long>("kestreltfo.connections", "{connection}", "Connections accepted by the TCP Fast Open transport.");
        _earlyDataConnections = _meter.CreateCounter<long>("kestreltfo.early_data.connections", "{connection}", "TCP Fast Open connections, by what their early data is.");
        _earlyDataBytes = _meter.CreateCounter<long>("kestreltfo.early_data.bytes", "By", "Early-data bytes of TCP Fast Open connections, by what the early data is.");
        _guard = _meter.CreateCounter<long>("kestreltfo.early_data.guard", "{connection}", "What the early-data guard did with connections whose early data is not replay-safe, and with duplicate ClientHellos.");
        _pending = _meter.CreateUpDownCounter<long>("kestreltfo.early_data.pending", "{connection}", "Connections whose early data the transport holds until their handshake completes.");
        _handshakesPending = _meter.CreateUpDownCounter<long>("kestreltfo.handshake.pending", "{connection}", "TCP Fast Open connections accepted before their handshake completed and waiting for it, each holding a place in its listener's queue.");
        _handshakesAborted = _meter.CreateCounter<long>("kestreltfo.handshake.aborted", "{connection}", "TCP Fast Open connections reset before their handshake completed: it took too long, or their client held its share of the queue.");

        // The kernel counts per network namespace from its creation; the instrument reports what happened since this app started.
        if (!OperatingSystem.IsLinux() || !netstat.TryRead(out _kernelAtStart))
        {
            _kernelAtStart = default;
        }

        _meter.CreateObservableGauge(
            "kestreltfo.listener.fast_open",
            () => ObserveListeners(listeners()),
            "{listener}",
            "1 for a listener that accepts TCP Fast Open now, else 0.");
        _meter.CreateObservableCounter(
            "kestreltfo.kernel.events",
            () => ObserveKernel(netstat, _kernelAtStart),
            "{event}",
            "The kernel's TCP Fast Open counters (/proc/net/netstat TcpExt) since the app started. The kernel counts per network namespace, so other processes in the app's namespace add to them.");
    }

    /// <summary>The value of <see cref="FastOpenTag"/>, boxed once for all connections.</summary>
    public static object FastOpenTagValue(bool fastOpen) => fastOpen ? True : False;

    public void ConnectionAccepted(ListenerTags listener, bool fastOpen)
    {
        if (_connections.Enabled)
        {
            _connections.Add(1, listener.Address, listener.Port, listener.NetworkType, new(FastOpenTag, FastOpenTagValue(fastOpen)));
        }
    }

    public void EarlyDataReceived(ListenerTags listener, EarlyDataKind kind, int bytes)
    {
        if (_earlyDataConnections.Enabled || _earlyDataBytes.Enabled)
        {
            var tag = new KeyValuePair<string, object?>("kestreltfo.early_data.kind", KindName(kind));
            _earlyDataConnections.Add(1, listener.Address, listener.Port, listener.NetworkType, tag);
            _earlyDataBytes.Add(bytes, listener.Address, listener.Port, listener.NetworkType, tag);
        }
    }

    public void Guarded(ListenerTags listener, EarlyDataGuardAction action)
    {
        if (_guard.Enabled)
        {
            _guard.Add(1, listener.Address, listener.Port, listener.NetworkType, new("kestreltfo.early_data.action", GuardActionNames.Of(action)));
        }
    }

    public void DeferralPending(ListenerTags listener, int change)
    {
        if (_pending.Enabled)
        {
            _pending.Add(change, listener.Address, listener.Port, listener.NetworkType);
        }
    }

    public void HandshakePending(ListenerTags listener, int change)
    {
        if (_handshakesPending.Enabled)
        {
            _handshakesPending.Add(change, listener.Address, listener.Port, listener.NetworkType);
        }
    }

    public void HandshakeAborted(ListenerTags listener, HandshakeAbortReason reason)
    {
        if (_handshakesAborted.Enabled)
        {
            _handshakesAborted.Add(1, listener.Address, listener.Port, listener.NetworkType, new("kestreltfo.handshake.abort_reason", AbortReasonName(reason)));
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static string KindName(EarlyDataKind kind) => kind switch
    {
        EarlyDataKind.TlsClientHello => "tls_client_hello",
        EarlyDataKind.HttpRequest => "http",
        EarlyDataKind.Http2Preface => "http2_preface",
        _ => "unknown",
    };

    private static string AbortReasonName(HandshakeAbortReason reason) => reason switch
    {
        HandshakeAbortReason.TimedOut => "timed_out",
        HandshakeAbortReason.ClientLimit => "client_limit",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    private static Measurement<int>[] ObserveListeners(IReadOnlyList<FastOpenConnectionListener> listeners)
    {
        // One read of the sysctl per collection: fixing it turns every listener on without a restart.
        var serverBit = KernelSupport.Detect().ServerEnabled;
        var measurements = new Measurement<int>[listeners.Count];
        for (var i = 0; i < listeners.Count; i++)
        {
            var tags = listeners[i].Tags;
            measurements[i] = new Measurement<int>(serverBit && listeners[i].FastOpenEnabled ? 1 : 0, tags.Address, tags.Port, tags.NetworkType);
        }

        return measurements;
    }

    private static List<Measurement<long>> ObserveKernel(LinuxNetstat netstat, TcpFastOpenCounters atStart)
    {
        var measurements = new List<Measurement<long>>(TcpFastOpenCounters.All.Length);
        if (!OperatingSystem.IsLinux() || !netstat.TryRead(out var counters))
        {
            return measurements;
        }

        foreach (var counter in TcpFastOpenCounters.All)
        {
            if (counters.IsPresent(counter))
            {
                var sinceStart = counters[counter] - (atStart.IsPresent(counter) ? atStart[counter] : 0);
                measurements.Add(new Measurement<long>(sinceStart, new KeyValuePair<string, object?>("kestreltfo.kernel.counter", TcpFastOpenCounters.KernelName(counter))));
            }
        }

        return measurements;
    }
}
