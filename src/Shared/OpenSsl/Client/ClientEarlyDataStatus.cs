namespace KestrelTfo.OpenSsl.Client;

/// <summary>What became of a client's early data (OpenSSL's <c>SSL_get_early_data_status</c>, whose numbers these are).</summary>
internal enum ClientEarlyDataStatus
{
    /// <summary>None was sent: none was given, there was no session, or the session allows none or less than was given.</summary>
    NotSent = Libssl.SSL_EARLY_DATA_NOT_SENT,

    /// <summary>Sent and refused: the server read none of it, so it must be sent again if it is still wanted.</summary>
    Rejected = Libssl.SSL_EARLY_DATA_REJECTED,

    /// <summary>Sent and taken: the server read all of it, so it must not be sent again.</summary>
    Accepted = Libssl.SSL_EARLY_DATA_ACCEPTED,
}
