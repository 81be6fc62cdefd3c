namespace KestrelTfo.Doctor;

/// <summary>What a client saw on one TCP Fast Open connection.</summary>
/// <param name="Answered">The server's side of the connection answered (bytes, a TLS handshake, or an orderly close).</param>
/// <param name="SynDataAcknowledged">The client's <c>TCP_INFO</c> says the SYN-ACK acknowledged the data in the SYN.</param>
/// <param name="Answer">What the server answered, short: an HTTP status line, or how the TLS handshake went.</param>
/// <param name="Error">Why the exchange stopped short, if it did.</param>
/// <param name="KernelRefused">This machine's kernel refused <c>TCP_FASTOPEN_CONNECT</c>, so no connection was tried.</param>
internal sealed record FastOpenExchange(bool Answered, bool SynDataAcknowledged, string Answer, string? Error, bool KernelRefused = false);
