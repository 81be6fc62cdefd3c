using System.Net.Sockets;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Internal;

internal sealed class FastOpenFeature : IFastOpenFeature
{
    /// <summary>Shared by every connection that did not use TCP Fast Open, so those cost no allocation.</summary>
    public static readonly FastOpenFeature NotFastOpen = new(isFastOpen: false, 0, EarlyDataClassification.None, EarlyDataAction.None, flaggedSocket: null);

    /// <summary>
    /// Shared by every TCP Fast Open connection whose SYN data the kernel's filter refused unseen (or whose SYN carried a
    /// cookie and no data): whatever it sent reaches the application after the handshake.
    /// </summary>
    public static readonly FastOpenFeature DeferredByKernel = new(isFastOpen: true, 0, EarlyDataClassification.None, EarlyDataAction.Deferred, flaggedSocket: null);

    /// <summary>Shared by every TCP Fast Open connection whose SYN carried a cookie and no data, where nothing guards it.</summary>
    public static readonly FastOpenFeature WithoutEarlyData = new(isFastOpen: true, 0, EarlyDataClassification.None, EarlyDataAction.None, flaggedSocket: null);

    // Only a flagged connection asks the kernel whether its handshake has completed since.
    private readonly TcpHandshakeState? _flaggedHandshake;

    private FastOpenFeature(bool isFastOpen, int earlyDataLength, EarlyDataClassification early, EarlyDataAction action, Socket? flaggedSocket)
    {
        IsFastOpen = isFastOpen;
        EarlyDataLength = earlyDataLength;
        EarlyDataKind = early.Kind;
        EarlyDataMethod = early.HttpMethod;
        EarlyDataAction = action;
        _flaggedHandshake = flaggedSocket is null ? null : new TcpHandshakeState(flaggedSocket);
    }

    public bool IsFastOpen { get; }

    public int EarlyDataLength { get; }

    public EarlyDataKind EarlyDataKind { get; }

    public string? EarlyDataMethod { get; }

    public EarlyDataAction EarlyDataAction { get; }

    // A connection that is gone stays a possible replay: nothing can tell otherwise.
    public bool IsPossibleReplay => EarlyDataAction == EarlyDataAction.Flagged && !_flaggedHandshake!.HasCompleted;

    /// <summary>Replay-safe early data (a TLS ClientHello): nothing to guard.</summary>
    public static FastOpenFeature Safe(int earlyDataLength, EarlyDataClassification early) =>
        new(isFastOpen: true, earlyDataLength, early, EarlyDataAction.None, flaggedSocket: null);

    /// <summary>Early data that may be a replay, handed to the application at once.</summary>
    public static FastOpenFeature Flagged(int earlyDataLength, EarlyDataClassification early, Socket socket) =>
        new(isFastOpen: true, earlyDataLength, early, EarlyDataAction.Flagged, socket);

    /// <summary>Early data that may be a replay, held back until the handshake completes.</summary>
    public static FastOpenFeature Deferred(int earlyDataLength, EarlyDataClassification early) =>
        new(isFastOpen: true, earlyDataLength, early, EarlyDataAction.Deferred, flaggedSocket: null);
}
