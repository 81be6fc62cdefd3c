using System.Net;
using System.Net.Sockets;
using KestrelTfo.Internal;
using KestrelTfo.Metrics;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.EarlyData;

/// <summary>
/// The early-data guard of one listener: everything that decides what becomes of a connection's early data. It says
/// whether the listener may use TCP Fast Open on this platform at all, puts the kernel's filter on the listening socket
/// when the policy defers, and for each accepted socket inspects the SYN's data, classifies it, debounces repeated
/// ClientHellos, applies the policy and hands back the decision, which it counts and logs.
/// </summary>
/// <remarks>
/// A SYN can arrive twice (RFC 7413, section 6), so early data that is not a TLS ClientHello may be a replay. Under
/// <see cref="EarlyDataPolicy.Flag"/> it goes to the application at once and its feature says so; under
/// <see cref="EarlyDataPolicy.Defer"/> it reaches the application only once the handshake has completed, which a replayed
/// SYN never does. On Linux the kernel does the deferring: the listener's <see cref="ClientHelloSynFilter"/> makes it
/// refuse the data of every SYN that does not start like a ClientHello, and the client sends that data again after the
/// handshake. Data that passes the filter but not the full classification, and every listener the filter cannot be
/// attached to, are deferred in the transport until <see cref="PendingHandshakes"/> sees the handshake complete.
/// </remarks>
internal sealed class EarlyDataGuard
{
    private readonly EarlyDataPolicy _policy;
    private readonly bool _canInspectConnections;
    private readonly bool _allowUnguardedEarlyData;
    private readonly bool _kernelFilter;
    private readonly ReplayRecord? _debouncer;
    private readonly FastOpenMeter _meter;
    private readonly ILogger _logger;
    private bool _inspecting;
    private bool _kernelDefers;

    /// <param name="policy">The listener's policy; <see cref="EarlyDataPolicy.Reject"/> is taken as <see cref="EarlyDataPolicy.Defer"/>.</param>
    /// <param name="canInspectConnections">Whether this platform tells which connections carried data in their SYN.</param>
    /// <param name="allowUnguardedEarlyData">Whether TCP Fast Open may be on where nothing can be inspected.</param>
    /// <param name="kernelFilter">Whether Defer may have the kernel refuse the data (<see cref="FastOpenTransportOptions.KernelEarlyDataFilter"/>).</param>
    /// <param name="debouncer">Shared by the transport's listeners, or null when debouncing is off.</param>
    /// <param name="meter">The transport's instruments.</param>
    /// <param name="logger">The transport's logger.</param>
    public EarlyDataGuard(
        EarlyDataPolicy policy,
        bool canInspectConnections,
        bool allowUnguardedEarlyData,
        bool kernelFilter,
        ReplayRecord? debouncer,
        FastOpenMeter meter,
        ILogger logger)
    {
        _policy = policy == EarlyDataPolicy.Flag ? EarlyDataPolicy.Flag : EarlyDataPolicy.Defer;
        _canInspectConnections = canInspectConnections;
        _allowUnguardedEarlyData = allowUnguardedEarlyData;
        _kernelFilter = kernelFilter;
        _debouncer = debouncer;
        _meter = meter;
        _logger = logger;
    }

    /// <summary>How the listener's early data is handled, for its start-up line.</summary>
    public string Handling => !_inspecting ? "not inspected"
        : _policy == EarlyDataPolicy.Flag ? "flagged"
        : _kernelDefers ? "deferred by the kernel's filter"
        : "deferred in the transport";

    /// <summary>
    /// Whether the listener may ask the OS for TCP Fast Open. Where connections cannot be inspected the guard cannot keep
    /// its promise, so only an app that says it accepts unguarded early data gets TCP Fast Open there.
    /// </summary>
    public bool AllowsFastOpen(EndPoint endPoint)
    {
        if (_canInspectConnections)
        {
            return true;
        }

        var os = System.Runtime.InteropServices.RuntimeInformation.OSDescription;
        if (_allowUnguardedEarlyData)
        {
            FastOpenLog.EarlyDataUninspected(_logger, os, endPoint);
            return true;
        }

        FastOpenLog.FastOpenOffUninspectable(_logger, os, endPoint);
        return false;
    }

    /// <summary>Readies the listening socket, before it listens: under Defer, attaches the kernel's filter.</summary>
    public void Prepare(Socket listenSocket, EndPoint endPoint, bool fastOpenEnabled)
    {
        _inspecting = fastOpenEnabled && _canInspectConnections;
        if (!_inspecting || _policy != EarlyDataPolicy.Defer || !_kernelFilter)
        {
            return;
        }

        try
        {
            ClientHelloSynFilter.Attach(listenSocket);
            _kernelDefers = true;
        }
        catch (SocketException e)
        {
            FastOpenLog.KernelFilterUnavailable(_logger, endPoint, e.SocketErrorCode, e.Message);
        }
    }

    /// <summary>Decides what becomes of an accepted socket, and counts and logs it.</summary>
    /// <exception cref="SocketException">The peer reset the connection while it was inspected.</exception>
    public EarlyDataDecision Decide(Socket socket, ListenerTags tags)
    {
        if (!_inspecting)
        {
            _meter.ConnectionAccepted(tags, fastOpen: false);
            return EarlyDataDecision.Admit(FastOpenFeature.NotFastOpen);
        }

        Span<byte> head = stackalloc byte[SynDataInspection.PeekedBytes];
        var inspection = SynDataInspection.Inspect(socket, head);
        var info = inspection.Info;
        var pending = info.State == TcpState.SynReceived;
        _meter.ConnectionAccepted(tags, info.ReceivedSynData || info.IsFastOpenChild || pending);
        if (!info.ReceivedSynData)
        {
            // Before Linux 6.x marks TCP Fast Open children (TCPI_OPT_TFO_CHILD), SYN_RECV at accept is what tells one
            // whose SYN data the filter refused: nothing else is accepted before its handshake completes.
            if (!info.IsFastOpenChild && !pending)
            {
                return EarlyDataDecision.Admit(FastOpenFeature.NotFastOpen);
            }

            if (!_kernelDefers)
            {
                return EarlyDataDecision.Admit(FastOpenFeature.WithoutEarlyData, pending);
            }

            _meter.Guarded(tags, EarlyDataGuardAction.KernelDeferred);
            FastOpenLog.EarlyDataDeferredByKernel(_logger, socket);
            return EarlyDataDecision.Admit(FastOpenFeature.DeferredByKernel, pending);
        }

        var early = inspection.Classification;
        _meter.EarlyDataReceived(tags, early.Kind, inspection.Length);
        if (early.IsReplaySafe)
        {
            if (_debouncer is not null && early.Kind == EarlyDataKind.TlsClientHello && _debouncer.Record(head[..inspection.PeekedLength]) == ReplayRecordResult.Seen)
            {
                _meter.Guarded(tags, EarlyDataGuardAction.Debounced);
                FastOpenLog.ClientHelloDebounced(_logger, socket, _debouncer.Window);
                return EarlyDataDecision.Refuse;
            }

            return EarlyDataDecision.Admit(FastOpenFeature.Safe(inspection.Length, early), pending);
        }

        FastOpenLog.EarlyDataNotReplaySafe(_logger, socket, inspection.Length, early, _policy);
        if (_policy == EarlyDataPolicy.Flag)
        {
            _meter.Guarded(tags, EarlyDataGuardAction.Flagged);
            return EarlyDataDecision.Admit(FastOpenFeature.Flagged(inspection.Length, early, socket), pending);
        }

        _meter.Guarded(tags, EarlyDataGuardAction.Deferred);
        var deferred = FastOpenFeature.Deferred(inspection.Length, early);

        // On loopback the handshake is over before the accept: nothing to wait for. One reset before it was accepted (CLOSE)
        // has nothing left to wait for: refused.
        return info.HandshakeCompleted ? EarlyDataDecision.Admit(deferred)
            : pending ? EarlyDataDecision.Hold(deferred)
            : EarlyDataDecision.Refuse;
    }

    /// <summary>
    /// Counts a connection whose input <see cref="PendingHandshakes"/> holds shut until its handshake completes; if it never
    /// does, the connection is aborted unread and <see cref="HoldEnded"/> says why.
    /// </summary>
    public void Hold(ListenerTags tags) => _meter.DeferralPending(tags, +1);

    /// <summary>Counts and logs how a held connection's wait ended.</summary>
    public void HoldEnded(EndPoint? remote, ListenerTags tags, HandshakeWatcher.Failure? failure, string? reason)
    {
        _meter.DeferralPending(tags, -1);
        if (failure is not { } how)
        {
            return;
        }

        if (how != HandshakeWatcher.Failure.Stopped)
        {
            _meter.Guarded(tags, how == HandshakeWatcher.Failure.TimedOut ? EarlyDataGuardAction.DeferralTimedOut : EarlyDataGuardAction.DeferralReset);
        }

        FastOpenLog.EarlyDataDeferralFailed(_logger, remote, reason!);
    }
}
