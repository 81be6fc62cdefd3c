using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace KestrelTfo.Tls;

/// <summary>
/// What a connection's TLS handshake settled, as the features Kestrel and apps read: set once, before Kestrel starts
/// the connection (it reads connection features once, when the connection starts). Its presence also tells Kestrel's
/// HTTPS middleware that TLS is already done.
/// </summary>
internal sealed class OpenSslTlsFeature : ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature
{
    public X509Certificate2? ClientCertificate { get; set; }

    public SslProtocols Protocol { get; init; }

    public TlsCipherSuite? NegotiatedCipherSuite { get; init; }

    public string HostName { get; init; } = string.Empty;

    public ReadOnlyMemory<byte> ApplicationProtocol { get; init; }

    /// <summary>Whether the handshake resumed a session (by a ticket).</summary>
    public bool IsResumed { get; init; }

    /// <summary>Whether the client's early data was accepted: Kestrel got the connection before the handshake completed.</summary>
    public bool IsEarlyDataAccepted { get; init; }

#pragma warning disable SYSLIB0058 // Obsolete in the interface; SslStream's values are gone too. NegotiatedCipherSuite says it all.
    public CipherAlgorithmType CipherAlgorithm => CipherAlgorithmType.None;

    public int CipherStrength => 0;

    public HashAlgorithmType HashAlgorithm => HashAlgorithmType.None;

    public int HashStrength => 0;

    public ExchangeAlgorithmType KeyExchangeAlgorithm => ExchangeAlgorithmType.None;

    public int KeyExchangeStrength => 0;
#pragma warning restore SYSLIB0058

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);
}
