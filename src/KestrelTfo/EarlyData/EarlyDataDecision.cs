using KestrelTfo.Internal;

namespace KestrelTfo.EarlyData;

/// <summary>What the guard decided for one accepted socket.</summary>
/// <param name="Feature">What the connection's <see cref="IFastOpenFeature"/> says; null when the connection is refused.</param>
/// <param name="Defer">The connection's input stays shut until its handshake completes (<see cref="EarlyDataGuard.Hold"/>).</param>
/// <param name="HandshakePending">
/// The socket was accepted in SYN_RECV, which only a TCP Fast Open connection can be: it holds a place in the listener's
/// TCP Fast Open queue until its handshake completes (<see cref="PendingHandshakes"/>).
/// </param>
internal readonly record struct EarlyDataDecision(FastOpenFeature? Feature, bool Defer, bool HandshakePending)
{
    /// <summary>Close the socket: nothing it sent reaches the application.</summary>
    public static EarlyDataDecision Refuse => default;

    public static EarlyDataDecision Admit(FastOpenFeature feature, bool handshakePending = false) => new(feature, Defer: false, handshakePending);

    public static EarlyDataDecision Hold(FastOpenFeature feature) => new(feature, Defer: true, HandshakePending: true);
}
