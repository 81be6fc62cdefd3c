namespace KestrelTfo.EarlyData;

/// <summary>
/// The one rule for what a TLS ClientHello looks like on the wire, used by the server's classifier, the client's check
/// of a first write, and the listener's kernel filter (which can afford only its first <see cref="MinimumBytes"/>).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>every record the ClientHello occupies, as far as it is visible, has content type 22 (handshake), version major 3
/// and minor 0 to 4 (clients send 3.1 in the record layer even for a TLS 1.3 hello), and a length of 1 to
/// <see cref="MaxRecordLength"/>;</item>
/// <item>the handshake message that starts the first record has type 1 (client_hello) and a length of at least
/// <see cref="MinimumClientHelloLength"/>, and may be fragmented over records at any byte, even inside its header;</item>
/// <item>its client_version, when visible, is major 3 and minor 0 to 4 (TLS 1.3 sends 3.3).</item>
/// </list>
/// The body (random, session id, cipher suites, extensions) is not parsed: a server does nothing with a ClientHello but
/// answer it, so its content cannot make a replay harmful; only what follows it could.
/// </remarks>
internal static class TlsClientHello
{
    public const byte HandshakeContentType = 22;
    public const byte MajorVersion = 3;
    public const byte MaxMinorVersion = 4;
    public const byte ClientHelloHandshakeType = 1;
    public const int RecordHeaderLength = 5;

    /// <summary>Where the handshake type sits: the first byte after the first record's header.</summary>
    public const int HandshakeTypeOffset = RecordHeaderLength;

    /// <summary>The fewest bytes that can be a ClientHello: the record header and the handshake type.</summary>
    public const int MinimumBytes = HandshakeTypeOffset + 1;

    /// <summary>
    /// The longest record accepted: 2^14, the TLS limit for a plaintext record such as a ClientHello, plus 2048, the
    /// expansion TLS 1.2 allows any record, so a client that overshoots is not mistaken for garbage.
    /// </summary>
    public const int MaxRecordLength = 16384 + 2048;

    /// <summary>
    /// The shortest ClientHello body: client_version (2), random (32), an empty session id (1), one cipher suite (2 + 2)
    /// and one compression method (1 + 1), without extensions.
    /// </summary>
    public const int MinimumClientHelloLength = 41;

    private const int HandshakeHeaderLength = 4;

    // The handshake header and client_version: all of the message the rules look at.
    private const int HandshakePrefixLength = HandshakeHeaderLength + 2;

    /// <summary>
    /// Whether everything visible of <paramref name="data"/> is consistent with a ClientHello that starts it: a whole one,
    /// or the start of one cut short (a SYN carries one segment, so a large ClientHello arrives in part). What follows the
    /// end of a whole ClientHello is not looked at.
    /// </summary>
    public static bool IsClientHelloOrPrefix(ReadOnlySpan<byte> data) => Walk(data, out _);

    /// <summary>
    /// Whether <paramref name="data"/> is exactly one whole ClientHello: its message ends where a record ends, and that
    /// record ends where the data does. Nothing may follow it (a TLS 1.3 client's 0-RTT data, say, is not safe to repeat).
    /// </summary>
    public static bool IsExactlyOneClientHello(ReadOnlySpan<byte> data) => Walk(data, out var exact) && exact;

    private static bool Walk(ReadOnlySpan<byte> data, out bool exact)
    {
        exact = false;
        if (data.Length < MinimumBytes)
        {
            return false;
        }

        // A handshake message may be fragmented over records at any byte, even inside its header, so the first bytes of
        // the message are gathered across records before they are judged.
        Span<byte> prefix = stackalloc byte[HandshakePrefixLength];
        var prefixLength = 0;
        var messageLength = -1;
        var messageBytesSeen = 0;
        var position = 0;

        // Each pass consumes a record header and at least one byte of fragment, so the loop ends.
        while (true)
        {
            var header = data.Slice(position, Math.Min(RecordHeaderLength, data.Length - position));
            if (!IsHandshakeRecordHeader(header))
            {
                return false;
            }

            if (header.Length < RecordHeaderLength)
            {
                return true;
            }

            var recordLength = (header[3] << 8) | header[4];
            position += RecordHeaderLength;

            var visible = data.Slice(position, Math.Min(recordLength, data.Length - position));
            var take = Math.Min(HandshakePrefixLength - prefixLength, visible.Length);
            visible[..take].CopyTo(prefix[prefixLength..]);
            prefixLength += take;
            if (!IsClientHelloPrefix(prefix[..prefixLength]))
            {
                return false;
            }

            if (messageLength < 0 && prefixLength >= HandshakeHeaderLength)
            {
                messageLength = HandshakeHeaderLength + ((prefix[1] << 16) | (prefix[2] << 8) | prefix[3]);
            }

            // The message length is known after at most four records, so this sum stays far below int.MaxValue.
            messageBytesSeen += recordLength;
            position += recordLength;
            if (messageLength >= 0 && messageBytesSeen >= messageLength)
            {
                exact = messageBytesSeen == messageLength && position == data.Length;
                return true;
            }

            if (position >= data.Length)
            {
                return true;
            }
        }
    }

    // Judges the visible part (1 to 5 bytes) of a record header.
    private static bool IsHandshakeRecordHeader(ReadOnlySpan<byte> header)
    {
        if (header[0] != HandshakeContentType || (header.Length > 1 && header[1] != MajorVersion) || (header.Length > 2 && header[2] > MaxMinorVersion))
        {
            return false;
        }

        if (header.Length < RecordHeaderLength)
        {
            return true;
        }

        var length = (header[3] << 8) | header[4];
        return length is >= 1 and <= MaxRecordLength;
    }

    // Judges the visible part (0 to 6 bytes) of the handshake header and client_version.
    private static bool IsClientHelloPrefix(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length >= 1 && prefix[0] != ClientHelloHandshakeType)
        {
            return false;
        }

        if (prefix.Length >= HandshakeHeaderLength
            && ((prefix[1] << 16) | (prefix[2] << 8) | prefix[3]) < MinimumClientHelloLength)
        {
            return false;
        }

        return (prefix.Length < 5 || prefix[4] == MajorVersion) && (prefix.Length < 6 || prefix[5] <= MaxMinorVersion);
    }
}
