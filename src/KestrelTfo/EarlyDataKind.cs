namespace KestrelTfo;

/// <summary>
/// What the early data of a connection (the bytes that arrived in the client's SYN, or were already queued
/// when the connection was accepted) starts with.
/// </summary>
/// <remarks>
/// A TLS ClientHello is safe to receive more than once: a server does nothing with it but answer, so a
/// replayed SYN costs a handshake and nothing else. Any of the other kinds with data may carry a request
/// that does something, and a SYN with data can be replayed by the network, so such early data is not
/// replay-safe.
/// </remarks>
public enum EarlyDataKind
{
    /// <summary>The connection had no early data at all.</summary>
    None = 0,

    /// <summary>
    /// The early data is a TLS ClientHello, or the start of one cut short by the size of the SYN, as a client
    /// sends it to open a TLS handshake. Replay-safe.
    /// </summary>
    TlsClientHello = 1,

    /// <summary>
    /// The early data is a plaintext HTTP/1.x request, or the start of one. Not replay-safe: the request
    /// runs each time the SYN arrives.
    /// </summary>
    HttpRequest = 2,

    /// <summary>
    /// The early data is the HTTP/2 connection preface of a client with prior knowledge over plaintext
    /// (<c>PRI * HTTP/2.0</c>), or the start of it. Not replay-safe: frames carrying a request may follow it.
    /// </summary>
    Http2Preface = 3,

    /// <summary>
    /// The early data is none of the above: another protocol, a fragment too short to tell, or malformed
    /// bytes. Not replay-safe.
    /// </summary>
    Unknown = 4,
}
