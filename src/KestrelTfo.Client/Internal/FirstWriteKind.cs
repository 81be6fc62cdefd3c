namespace KestrelTfo.Client.Internal;

/// <summary>What the first bytes written to a new connection are, as far as putting them in a SYN goes.</summary>
internal enum FirstWriteKind
{
    /// <summary>Anything that must not be replayed: it waits for the handshake.</summary>
    Other,

    /// <summary>A TLS handshake record, the ClientHello: replay safe, the server answers both copies the same way.</summary>
    TlsClientHello,

    /// <summary>A plaintext HTTP/1.x request with a safe method (GET, HEAD, OPTIONS).</summary>
    SafeRequest,
}
