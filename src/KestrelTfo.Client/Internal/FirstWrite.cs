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
        return (data.StartsWith("GET "u8) || data.StartsWith("HEAD "u8) || data.StartsWith("OPTIONS "u8)) && !AsksForUpgrade(data)
            ? FirstWriteKind.SafeRequest
            : FirstWriteKind.Other;
    }

    /// <summary>
    /// Whether the request's header section has an <c>Upgrade</c> field (WebSocket, h2c): a safe method, but a replayed
    /// SYN would open a second session, so it is not safe to replay.
    /// </summary>
    private static bool AsksForUpgrade(ReadOnlySpan<byte> request)
    {
        var end = request.IndexOf("\r\n\r\n"u8);
        var headers = end < 0 ? request : request[..end];
        for (var lineStart = headers.IndexOf((byte)'\n'); lineStart >= 0;)
        {
            var line = headers[(lineStart + 1)..];

            // Field names are case-insensitive; whitespace before the colon is invalid, and counted as the field
            // anyway, since a lenient server might take it.
            if (line.Length >= "upgrade".Length && System.Text.Ascii.EqualsIgnoreCase(line[.."upgrade".Length], "upgrade"u8) &&
                line["upgrade".Length..].TrimStart(" \t"u8) is [(byte)':', ..])
            {
                return true;
            }

            var next = line.IndexOf((byte)'\n');
            lineStart = next < 0 ? -1 : lineStart + 1 + next;
        }

        return false;
    }
}
