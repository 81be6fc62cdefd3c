using System.Net.Sockets;
using KestrelTfo.EarlyData;
using KestrelTfo.Platform;

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

    // Only a flagged connection keeps its socket, to ask the kernel whether the handshake has completed since.
    private readonly Socket? _flaggedSocket;
    private volatile bool _handshakeCompleted;

    private FastOpenFeature(bool isFastOpen, int earlyDataLength, EarlyDataClassification early, EarlyDataAction action, Socket? flaggedSocket)
    {
        IsFastOpen = isFastOpen;
        EarlyDataLength = earlyDataLength;
        EarlyDataKind = early.Kind;
        EarlyDataMethod = early.HttpMethod;
        EarlyDataAction = action;
        _flaggedSocket = flaggedSocket;
    }

    public bool IsFastOpen { get; }

    public int EarlyDataLength { get; }

    public EarlyDataKind EarlyDataKind { get; }

    public string? EarlyDataMethod { get; }

    public EarlyDataAction EarlyDataAction { get; }

    public bool IsPossibleReplay
    {
        get
        {
            if (EarlyDataAction != EarlyDataAction.Flagged || _handshakeCompleted)
            {
                return false;
            }

            try
            {
                // A completed handshake stays completed, so one positive answer is kept.
                _handshakeCompleted = TcpConnectionInfo.Read(_flaggedSocket!).HandshakeCompleted;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The connection is gone; with no way to tell, it stays a possible replay.
            }

            return !_handshakeCompleted;
        }
    }

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
