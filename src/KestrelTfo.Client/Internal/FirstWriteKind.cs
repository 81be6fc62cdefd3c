namespace KestrelTfo.Client.Internal;

/// <summary>What the first bytes written to a new connection are, as far as putting them in a SYN goes.</summary>
internal enum FirstWriteKind
{
    /// <summary>Anything that must not be repeated, or that the rule does not recognise: it waits for the handshake.</summary>
    Other,

    /// <summary>Exactly one TLS ClientHello: the server answers every copy the same way, and nothing runs.</summary>
    TlsClientHello,

    /// <summary>Exactly one plaintext HTTP/1.x request head with a safe method (GET, HEAD, OPTIONS) and no body.</summary>
    SafeRequest,
}
