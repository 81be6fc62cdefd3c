namespace KestrelTfo;

/// <summary>
/// What happens to a request that arrived, wholly or partly, before its connection's handshake completed (in a TCP Fast
/// Open SYN, or as TLS early data), or that a proxy forwarded with <c>Early-Data: 1</c> (RFC 8470): such a request may be
/// a replay of one that already ran.
/// </summary>
public enum EarlyDataRequestHandling
{
    /// <summary>
    /// The request runs at once. For safe methods (GET, HEAD, OPTIONS), and for endpoints whose handlers are idempotent.
    /// </summary>
    RunAtOnce,

    /// <summary>
    /// The request reaches the app only once the handshake has completed, which a replay never does; the client sees no
    /// error, and nothing runs twice. A request a proxy marked with <c>Early-Data: 1</c> cannot wait for its client's
    /// handshake with the proxy, so it gets <see cref="TooEarly"/> instead.
    /// </summary>
    WaitForHandshake,

    /// <summary>
    /// The request is answered 425 Too Early without reaching the app (RFC 8470, section 5.2); the client sends it again
    /// once its handshake has completed.
    /// </summary>
    TooEarly,
}
