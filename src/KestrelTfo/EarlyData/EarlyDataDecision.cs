using KestrelTfo.Internal;

namespace KestrelTfo.EarlyData;

/// <summary>What the guard decided for one accepted socket.</summary>
/// <param name="Feature">What the connection's <see cref="IFastOpenFeature"/> says; null when the connection is refused.</param>
/// <param name="Defer">The connection's input stays shut until its handshake completes (<see cref="EarlyDataGuard.Hold"/>).</param>
internal readonly record struct EarlyDataDecision(FastOpenFeature? Feature, bool Defer)
{
    /// <summary>Close the socket: nothing it sent reaches the application.</summary>
    public static EarlyDataDecision Refuse => default;

    public static EarlyDataDecision Admit(FastOpenFeature feature) => new(feature, Defer: false);

    public static EarlyDataDecision Hold(FastOpenFeature feature) => new(feature, Defer: true);
}
