namespace KestrelTfo.Client.Internal;

/// <summary>What became of a connection's first request over the client's own TLS, for the early-data metric.</summary>
internal enum ClientEarlyDataOutcome
{
    /// <summary>Sent as early data and taken by the server: the round trip was saved.</summary>
    Accepted,

    /// <summary>Sent as early data and refused: sent again, once, after the handshake.</summary>
    Declined,

    /// <summary>Safe, but no session allowed it: the first connection to a server, or a server that allows no early data.</summary>
    NoSession,

    /// <summary>Not offered: the first request was not exactly one safe request, or had come as early data itself.</summary>
    NotSafe,
}
