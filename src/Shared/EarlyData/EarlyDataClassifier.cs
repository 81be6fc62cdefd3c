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
/// <b>TLS ClientHello</b> (<see cref="EarlyDataKind.TlsClientHello"/>): at least <see cref="TlsClientHello.MinimumBytes"/>
/// bytes that <see cref="TlsClientHello.IsClientHelloOrPrefix"/> accepts (see its rules); fewer are
/// <see cref="EarlyDataKind.Unknown"/>. Nothing after the end of the ClientHello is looked at (a TLS 1.3 client may
/// follow it with 0-RTT records, which Kestrel's TLS does not accept and drops unread). Parsing more would not make the
/// answer safer: a byte stream that starts with 22 is no HTTP request, so Kestrel's HTTP parser rejects it, and a TLS
/// stack does nothing with a malformed hello but fail the handshake. The rules are lenient where a real client might be
/// (record version, the upper record length) so that a guarded listener does not hold up real clients.
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
    private static ReadOnlySpan<byte> Http2Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Classifies early data; see the type's remarks for the exact rules.</summary>
    /// <param name="data">The early data, or as much of its start as is available.</param>
    public static EarlyDataClassification Classify(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return EarlyDataClassification.None;
        }

        if (data[0] == TlsClientHello.HandshakeContentType)
        {
            return TlsClientHello.IsClientHelloOrPrefix(data) ? EarlyDataClassification.TlsClientHello : EarlyDataClassification.Unknown;
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
    private static bool IsRequestLine(ReadOnlySpan<byte> data) => Http1Syntax.RequestLineLength(data, bareLineFeed: true) > 0;
}
