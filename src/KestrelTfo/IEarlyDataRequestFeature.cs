namespace KestrelTfo;

/// <summary>
/// What the early-data guard knew and did about one request, for requests that may be replays: set on
/// <c>HttpContext.Features</c> only for a request that arrived before its connection's handshake completed, or that a
/// proxy forwarded with <c>Early-Data: 1</c>.
/// </summary>
public interface IEarlyDataRequestFeature
{
    /// <summary>
    /// Gets a value indicating whether the request arrived, wholly or partly, before its connection's handshake completed,
    /// or was forwarded with <c>Early-Data: 1</c> (<see cref="IsFromProxy"/>). Such a request may be a replay of one that
    /// already ran here or on another instance.
    /// </summary>
    /// <remarks>
    /// It stays true for a request that waited (<see cref="EarlyDataRequestHandling.WaitForHandshake"/>): it arrived
    /// early, although by the time the app runs it the completed handshake has shown it is no replay.
    /// </remarks>
    bool IsEarlyData { get; }

    /// <summary>Gets a value indicating whether a proxy forwarded the request with <c>Early-Data: 1</c> (RFC 8470, section 5.1).</summary>
    bool IsFromProxy { get; }

    /// <summary>Gets what the guard did with the request: ran it at once, or held it until the handshake completed.</summary>
    EarlyDataRequestHandling Handling { get; }

    /// <summary>
    /// Gets a value indicating whether the request may be a replay now: it arrived early and ran before any handshake
    /// proved it genuine (<see cref="EarlyDataRequestHandling.RunAtOnce"/>), or came from a proxy.
    /// </summary>
    bool IsPossibleReplay { get; }
}
