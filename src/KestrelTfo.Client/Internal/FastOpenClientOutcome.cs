namespace KestrelTfo.Client.Internal;

/// <summary>What became of a connection's first write, as the client's metrics name it (<see cref="FastOpenClientMetrics"/>).</summary>
internal enum FastOpenClientOutcome
{
    /// <summary>The platform does not say.</summary>
    Unknown,

    /// <summary>It rode in the SYN, and the server acknowledged it there.</summary>
    SynDataAccepted,

    /// <summary>The SYN asked for a cookie; the data followed the handshake.</summary>
    CookieRequested,

    /// <summary>Not safe to repeat: it waited for the handshake.</summary>
    NotSafe,

    /// <summary>Safe, yet it went after the handshake: no TCP Fast Open here, the server refused it, or a retry.</summary>
    Fallback,

    /// <summary>The racing connection without TCP Fast Open was established first.</summary>
    RaceWonByPlain,
}
