using Microsoft.AspNetCore.Http;

namespace KestrelTfo.EarlyData;

/// <summary>
/// Tells what a connection's early data is from its bytes alone: a TLS ClientHello, an HTTP/1.x request,
/// the HTTP/2 connection preface, or something else. Pure, allocation-free, and never throws: malformed or
/// hostile bytes get a classification, usually <see cref="EarlyDataKind.Unknown"/>.
/// </summary>
/// <remarks>
/// <para>
/// Early data is often cut short: a SYN carries at most one segment, so a ClientHello larger than that (one
/// with post-quantum key shares, say) arrives in part. Every rule therefore judges only the bytes that are
/// there: a prefix is accepted when everything visible is consistent with the whole.
/// </para>
/// <para>
/// <b>TLS ClientHello</b> (<see cref="EarlyDataKind.TlsClientHello"/>). At least <see cref="MinimumTlsBytes"/>
/// bytes (the record header and the handshake type); fewer are <see cref="EarlyDataKind.Unknown"/>. Then:
/// </para>
/// <list type="bullet">
/// <item>every record the ClientHello occupies, as far as it is visible, has content type 22 (handshake),
/// version major 3 and minor 0 to 4 (clients send 3.1 in the record layer even for a TLS 1.3 hello), and a
/// length of 1 to <see cref="MaxRecordLength"/>;</item>
/// <item>the handshake message that starts the first record has type 1 (client_hello) and a length of at
/// least <see cref="MinimumClientHelloLength"/>; it may end inside the first record (handshake length + 4 at
/// most the record length) or continue into further records, whose headers are checked as they appear;</item>
/// <item>its client_version, when visible, is major 3 and minor 0 to 4 (TLS 1.3 sends 3.3).</item>
/// </list>
/// <para>
/// The body (random, session id, cipher suites, extensions) is not parsed, and nothing after the end of the
/// ClientHello is looked at (a TLS 1.3 client may follow it with 0-RTT records, which Kestrel's TLS does not
/// accept and drops unread). Parsing more would not make the answer safer: a byte stream that starts with 22
/// is no HTTP request, so Kestrel's HTTP parser rejects it, and a TLS stack does nothing with a malformed
/// hello but fail the handshake. The rules are lenient where a real client might be (record version, the upper
/// record length) so that Reject and Defer policies do not hit real clients.
/// </para>
/// <para>
/// <b>HTTP/2 preface</b> (<see cref="EarlyDataKind.Http2Preface"/>). The data starts with
/// <c>PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n</c>, or is a prefix of it of at least 4 bytes (<c>"PRI "</c>).
/// <c>"PRI "</c> followed by anything else falls to the HTTP/1.x rules (PRI is a legal extension method).
/// </para>
/// <para>
/// <b>HTTP/1.x request</b> (<see cref="EarlyDataKind.HttpRequest"/>). A standard method (GET, HEAD, POST, PUT,
/// DELETE, CONNECT, OPTIONS, TRACE, PATCH, QUERY; case-sensitive) followed by a space is enough, whatever comes
/// after; <see cref="EarlyDataClassification.HttpMethod"/> is then the shared <see cref="HttpMethods"/> string.
/// Any other method token needs a whole request line, <c>token SP target SP HTTP/1.d</c> ended by CRLF or LF,
/// and has no <see cref="EarlyDataClassification.HttpMethod"/>. A method cut short before its space is
/// <see cref="EarlyDataKind.Unknown"/>.
/// </para>
/// <para>
/// Empty data is <see cref="EarlyDataKind.None"/>; anything else is <see cref="EarlyDataKind.Unknown"/>, the
/// SSLv2-compatible hello format included (no client in use sends it).
/// </para>
/// </remarks>
internal static class EarlyDataClassifier
{
    /// <summary>The fewest bytes that can be a ClientHello: the 5-byte record header and the handshake type.</summary>
    public const int MinimumTlsBytes = 6;

    /// <summary>
    /// The longest record accepted: 2^14, the TLS limit for a plaintext record such as a ClientHello, plus
    /// 2048, the expansion TLS 1.2 allows any record, so a client that overshoots is not mistaken for garbage.
    /// </summary>
    public const int MaxRecordLength = 16384 + 2048;

    /// <summary>
    /// The shortest ClientHello body: client_version (2), random (32), an empty session id (1), one cipher
    /// suite (2 + 2) and one compression method (1 + 1), without extensions.
    /// </summary>
    public const int MinimumClientHelloLength = 41;

    private const byte HandshakeContentType = 22;
    private const byte ClientHelloHandshakeType = 1;
    private const int RecordHeaderLength = 5;
    private const int HandshakeHeaderLength = 4;

    // The handshake header and client_version: all of the message the rules look at.
    private const int HandshakePrefixLength = HandshakeHeaderLength + 2;

    private static ReadOnlySpan<byte> Http2Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Classifies early data; see the type's remarks for the exact rules.</summary>
    /// <param name="data">The early data, or as much of its start as is available.</param>
    public static EarlyDataClassification Classify(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return EarlyDataClassification.None;
        }

        if (data[0] == HandshakeContentType)
        {
            return IsClientHello(data) ? EarlyDataClassification.TlsClientHello : EarlyDataClassification.Unknown;
        }

        if (IsHttp2Preface(data))
        {
            return EarlyDataClassification.Http2Preface;
        }

        if (StandardMethod(data) is { } method)
        {
            return new EarlyDataClassification(EarlyDataKind.HttpRequest, method);
        }

        return IsRequestLine(data)
            ? new EarlyDataClassification(EarlyDataKind.HttpRequest)
            : EarlyDataClassification.Unknown;
    }

    private static bool IsClientHello(ReadOnlySpan<byte> data)
    {
        if (data.Length < MinimumTlsBytes)
        {
            return false;
        }

        // A handshake message may be fragmented over records at any byte, even inside its header, so the
        // first bytes of the message are gathered across records before they are judged.
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
            if ((messageLength >= 0 && messageBytesSeen >= messageLength) || position >= data.Length)
            {
                return true;
            }
        }
    }

    // Judges the visible part (1 to 5 bytes) of a record header.
    private static bool IsHandshakeRecordHeader(ReadOnlySpan<byte> header)
    {
        if (header[0] != HandshakeContentType || (header.Length > 1 && header[1] != 3) || (header.Length > 2 && header[2] > 4))
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

        return (prefix.Length < 5 || prefix[4] == 3) && (prefix.Length < 6 || prefix[5] <= 4);
    }

    private static bool IsHttp2Preface(ReadOnlySpan<byte> data)
    {
        var length = Math.Min(data.Length, Http2Preface.Length);
        return length >= 4 && data[..length].SequenceEqual(Http2Preface[..length]);
    }

    // Matches "METHOD " for the standard methods, returning the shared string so nothing is allocated.
    private static string? StandardMethod(ReadOnlySpan<byte> data) => data[0] switch
    {
        (byte)'G' when data.StartsWith("GET "u8) => HttpMethods.Get,
        (byte)'H' when data.StartsWith("HEAD "u8) => HttpMethods.Head,
        (byte)'P' when data.StartsWith("POST "u8) => HttpMethods.Post,
        (byte)'P' when data.StartsWith("PUT "u8) => HttpMethods.Put,
        (byte)'P' when data.StartsWith("PATCH "u8) => HttpMethods.Patch,
        (byte)'D' when data.StartsWith("DELETE "u8) => HttpMethods.Delete,
        (byte)'C' when data.StartsWith("CONNECT "u8) => HttpMethods.Connect,
        (byte)'O' when data.StartsWith("OPTIONS "u8) => HttpMethods.Options,
        (byte)'T' when data.StartsWith("TRACE "u8) => HttpMethods.Trace,
        (byte)'Q' when data.StartsWith("QUERY "u8) => HttpMethods.Query,
        _ => null,
    };

    // token SP request-target SP "HTTP/1." DIGIT (CRLF | LF), the whole line present.
    private static bool IsRequestLine(ReadOnlySpan<byte> data)
    {
        var methodLength = 0;
        while (methodLength < data.Length && IsTokenChar(data[methodLength]))
        {
            methodLength++;
        }

        if (methodLength == 0 || methodLength == data.Length || data[methodLength] != (byte)' ')
        {
            return false;
        }

        var rest = data[(methodLength + 1)..];
        var targetLength = 0;
        while (targetLength < rest.Length && rest[targetLength] > 0x20 && rest[targetLength] != 0x7F)
        {
            targetLength++;
        }

        if (targetLength == 0 || targetLength == rest.Length || rest[targetLength] != (byte)' ')
        {
            return false;
        }

        var version = rest[(targetLength + 1)..];
        return version.Length >= 9
            && version.StartsWith("HTTP/1."u8)
            && char.IsAsciiDigit((char)version[7])
            && (version[8] == (byte)'\n' || (version[8] == (byte)'\r' && version.Length >= 10 && version[9] == (byte)'\n'));
    }

    // RFC 9110 tchar: "!#$%&'*+-.^_`|~", digits and letters.
    private static bool IsTokenChar(byte c) =>
        char.IsAsciiLetterOrDigit((char)c) || (c < 0x80 && "!#$%&'*+-.^_`|~"u8.Contains(c));
}
