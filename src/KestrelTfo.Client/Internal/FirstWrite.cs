namespace KestrelTfo.Client.Internal;

/// <summary>
/// Decides from a connection's first write whether it may ride in the SYN. Deliberately tiny: the client wrote
/// these bytes itself, so it only has to recognise the shapes SocketsHttpHandler produces, and everything it does
/// not recognise takes the safe way (connect first).
/// </summary>
internal static class FirstWrite
{
    // A TLS record header starts with the content type (22 = handshake) and the major version 3; the ClientHello is
    // the only handshake record a client sends first.
    private const byte TlsHandshake = 0x16;
    private const byte TlsMajorVersion = 0x03;

    public static FirstWriteKind Classify(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 2 && data[0] == TlsHandshake && data[1] == TlsMajorVersion)
        {
            return FirstWriteKind.TlsClientHello;
        }

        // Methods are case-sensitive (RFC 9110 9.1), and SocketsHttpHandler writes them followed by one space.
        // The request line and headers come in one write; the body, if any, only later.
        return data.StartsWith("GET "u8) || data.StartsWith("HEAD "u8) || data.StartsWith("OPTIONS "u8)
            ? FirstWriteKind.SafeRequest
            : FirstWriteKind.Other;
    }
}
