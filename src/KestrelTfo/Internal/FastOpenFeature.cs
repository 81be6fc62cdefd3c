using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.Internal;

internal sealed class FastOpenFeature : IFastOpenFeature
{
    /// <summary>Shared by every connection that did not use TCP Fast Open, so those cost no allocation.</summary>
    public static readonly FastOpenFeature NotFastOpen = new(isFastOpen: false, earlyDataLength: 0, EarlyDataKind.None, null, EarlyDataAction.None);

    // Only a flagged connection keeps its socket, to ask the kernel whether the handshake has completed since.
    private readonly Socket? _flaggedSocket;
    private volatile bool _handshakeCompleted;

    public FastOpenFeature(
        bool isFastOpen, int earlyDataLength, EarlyDataKind earlyDataKind, string? earlyDataMethod, EarlyDataAction earlyDataAction, Socket? flaggedSocket = null)
    {
        IsFastOpen = isFastOpen;
        EarlyDataLength = earlyDataLength;
        EarlyDataKind = earlyDataKind;
        EarlyDataMethod = earlyDataMethod;
        EarlyDataAction = earlyDataAction;
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
                _handshakeCompleted = FastOpenSocket.ReadInfo(_flaggedSocket!).HandshakeCompleted;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The connection is gone; with no way to tell, it stays a possible replay.
            }

            return !_handshakeCompleted;
        }
    }
}
