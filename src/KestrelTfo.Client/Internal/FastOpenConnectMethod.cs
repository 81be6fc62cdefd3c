namespace KestrelTfo.Client.Internal;

/// <summary>How this platform puts a connection's first bytes in its SYN.</summary>
internal enum FastOpenConnectMethod
{
    /// <summary>It does not: connections open normally.</summary>
    None,

    /// <summary>
    /// Linux: <c>TCP_FASTOPEN_CONNECT</c>, then <c>connect</c>, which returns at once when a cookie is cached; the SYN
    /// leaves with the first send.
    /// </summary>
    FastOpenConnectOption,

    /// <summary>
    /// .NET's <c>Socket.ConnectAsync</c> with a buffer on a socket with <c>TCP_FASTOPEN</c> set: <c>connectx</c> on
    /// macOS, <c>ConnectEx</c> on Windows.
    /// </summary>
    ConnectWithData,
}
