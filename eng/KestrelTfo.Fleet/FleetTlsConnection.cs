namespace KestrelTfo.Fleet;

/// <summary>One HTTPS connection of a <see cref="FleetTlsSession"/>, as <c>openssl s_client</c> reported it.</summary>
/// <param name="Succeeded">The client got a whole <c>200</c> answer, in early data or after the handshake.</param>
/// <param name="Resumed">The handshake resumed the session the client offered ("Reused, TLSv1.3").</param>
/// <param name="EarlyDataAccepted">The server accepted the request sent as early data ("Early data was accepted").</param>
public sealed record FleetTlsConnection(bool Succeeded, bool Resumed, bool EarlyDataAccepted);
