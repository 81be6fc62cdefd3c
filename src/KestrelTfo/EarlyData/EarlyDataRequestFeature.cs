namespace KestrelTfo.EarlyData;

/// <summary>One request that may be a replay, and what the guard did with it.</summary>
internal sealed class EarlyDataRequestFeature(bool fromProxy, IHandshakeCompletionFeature? handshake) : IEarlyDataRequestFeature
{
    public bool IsEarlyData => true;

    public bool IsFromProxy => fromProxy;

    public EarlyDataRequestHandling Handling { get; private set; }

    public bool IsPossibleReplay => fromProxy || handshake is not { IsCompleted: true };

    /// <summary>The connection's handshake, or null for a request only a proxy marked.</summary>
    public IHandshakeCompletionFeature? Handshake => handshake;

    public void Decide(EarlyDataRequestHandling handling) => Handling = handling;
}
