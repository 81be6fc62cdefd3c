namespace KestrelTfo.EarlyData;

/// <summary>The pieces of HTTP/1.1's grammar (RFC 9110, RFC 9112) that the server's classifier and the client's first-write check share.</summary>
internal static class Http1Syntax
{
    /// <summary>RFC 9110 tchar: <c>!#$%&amp;'*+-.^_`|~</c>, digits and letters.</summary>
    public static bool IsTokenChar(byte c) =>
        char.IsAsciiLetterOrDigit((char)c) || (c < 0x80 && "!#$%&'*+-.^_`|~"u8.Contains(c));

    /// <summary>
    /// The length of the request line that starts <paramref name="data"/>, with its line end:
    /// <c>token SP request-target SP "HTTP/1." DIGIT CRLF</c>, or a bare LF when <paramref name="bareLineFeed"/> allows it
    /// (as lenient servers do). 0 when the data does not start with a whole request line.
    /// </summary>
    /// <param name="data">The bytes.</param>
    /// <param name="bareLineFeed">Whether LF alone ends the line.</param>
    /// <param name="methodLength">The method token's length.</param>
    public static int RequestLineLength(ReadOnlySpan<byte> data, bool bareLineFeed, out int methodLength)
    {
        methodLength = 0;
        while (methodLength < data.Length && IsTokenChar(data[methodLength]))
        {
            methodLength++;
        }

        if (methodLength == 0 || methodLength == data.Length || data[methodLength] != (byte)' ')
        {
            return 0;
        }

        var targetStart = methodLength + 1;
        var targetLength = 0;
        while (targetStart + targetLength < data.Length && data[targetStart + targetLength] is > 0x20 and not 0x7F)
        {
            targetLength++;
        }

        var versionStart = targetStart + targetLength + 1;
        if (targetLength == 0 || versionStart > data.Length || data[versionStart - 1] != (byte)' ')
        {
            return 0;
        }

        var version = data[versionStart..];
        if (version.Length < 9 || !version.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)version[7]))
        {
            return 0;
        }

        if (version[8] == (byte)'\r' && version.Length >= 10 && version[9] == (byte)'\n')
        {
            return versionStart + 10;
        }

        return bareLineFeed && version[8] == (byte)'\n' ? versionStart + 9 : 0;
    }

    /// <inheritdoc cref="RequestLineLength(ReadOnlySpan{byte}, bool, out int)"/>
    public static int RequestLineLength(ReadOnlySpan<byte> data, bool bareLineFeed) => RequestLineLength(data, bareLineFeed, out _);
}
