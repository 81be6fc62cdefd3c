using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.OpenSsl;

namespace KestrelTfo.Tls;

/// <summary>
/// A server certificate as OpenSSL takes it: the certificate's own <c>X509*</c> (its <see cref="X509Certificate.Handle"/>
/// on Linux), the private key's <c>EVP_PKEY*</c> (a duplicate of the platform's handle), and the chain to send. No key
/// material passes through managed memory. OpenSSL takes its own references when these are installed.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OpenSslCertificate : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly SafeEvpPKeyHandle _key;
    private readonly X509Certificate2[] _chain;

    private OpenSslCertificate(X509Certificate2 certificate, SafeEvpPKeyHandle key, X509Certificate2[] chain)
    {
        _certificate = certificate;
        _key = key;
        _chain = chain;
    }

    /// <param name="certificate">The server's certificate, with its private key.</param>
    /// <param name="chain">The intermediates to send; when null, those that <see cref="X509Chain"/> finds.</param>
    public static OpenSslCertificate Create(X509Certificate2 certificate, X509Certificate2Collection? chain)
    {
        var key = DuplicateKey(certificate) ?? throw new InvalidOperationException(
            $"The server certificate '{certificate.Subject}' ({certificate.Thumbprint}) has no RSA or ECDSA private key that OpenSSL can use.");
        return new OpenSslCertificate(certificate, key, chain is null ? FindIntermediates(certificate) : [.. chain.Where(c => c.Thumbprint != certificate.Thumbprint)]);
    }

    /// <summary>Makes this the certificate of every connection of <paramref name="context"/> (unless a selector picks another).</summary>
    public void InstallOn(SafeSslContextHandle context)
    {
        OpenSslError.Clear();
        OpenSslError.Check(Libssl.SSL_CTX_use_certificate(context, _certificate.Handle), "SSL_CTX_use_certificate");
        OpenSslError.Check(Libssl.SSL_CTX_use_PrivateKey(context, _key), "SSL_CTX_use_PrivateKey");
        OpenSslError.Check(Libssl.SSL_CTX_check_private_key(context), "SSL_CTX_check_private_key");
        foreach (var link in _chain)
        {
            // SSL_CTX_add1_chain_cert: the context takes a reference of its own.
            if (Libssl.SSL_CTX_ctrl(context, Libssl.SSL_CTRL_CHAIN_CERT, 1, link.Handle) != 1)
            {
                throw OpenSslError.Exception("SSL_CTX_add1_chain_cert", link.Subject);
            }
        }

        GC.KeepAlive(_certificate);
        GC.KeepAlive(_chain);
    }

    /// <summary>Makes this the certificate of one connection, from a callback during its handshake; false when OpenSSL refused.</summary>
    public bool TryInstallOn(nint ssl)
    {
        OpenSslError.Clear();
        var installed = Libssl.SSL_use_certificate(ssl, _certificate.Handle) == 1 && Libssl.SSL_use_PrivateKey(ssl, _key) == 1;
        foreach (var link in _chain)
        {
            installed = installed && Libssl.SSL_ctrl(ssl, Libssl.SSL_CTRL_CHAIN_CERT, 1, link.Handle) == 1;
        }

        GC.KeepAlive(_certificate);
        GC.KeepAlive(_chain);
        OpenSslError.Clear();
        return installed;
    }

    public void Dispose() => _key.Dispose();

    private static SafeEvpPKeyHandle? DuplicateKey(X509Certificate2 certificate)
    {
        using var ecdsa = certificate.GetECDsaPrivateKey();
        if (ecdsa is ECDsaOpenSsl ecdsaOpenSsl)
        {
            return ecdsaOpenSsl.DuplicateKeyHandle();
        }

        using var rsa = certificate.GetRSAPrivateKey();
        return rsa is RSAOpenSsl rsaOpenSsl ? rsaOpenSsl.DuplicateKeyHandle() : null;
    }

    private static X509Certificate2[] FindIntermediates(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags;
        chain.Build(certificate);

        // The leaf is sent anyway and a self-signed root is the client's to have.
        return [.. chain.ChainElements.Skip(1).Select(e => e.Certificate).Where(c => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData) is false)
            .Select(c => X509CertificateLoader.LoadCertificate(c.RawData))]; // copies: the chain's own die with it
    }
}
