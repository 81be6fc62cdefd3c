using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.OpenSsl.Client;

/// <summary>
/// Decides whether the server's certificate is good for <paramref name="hostName"/>; the client has no trust store of
/// its own, so this is the whole check. Called during a full handshake only: a resumed one presents no certificate, and
/// its session came from a handshake this accepted. Throwing counts as refusing.
/// </summary>
/// <param name="hostName">The name the client asked for (SNI), or the address it connected to.</param>
/// <param name="certificate">The server's certificate.</param>
/// <param name="sent">Every certificate the server sent, its own first: the intermediates to build a chain with.</param>
internal delegate bool OpenSslCertificateValidator(string hostName, X509Certificate2 certificate, X509Certificate2Collection sent);
