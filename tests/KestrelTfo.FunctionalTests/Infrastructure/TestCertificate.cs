using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// A self-signed server certificate made at test time, which test clients trust by its thumbprint alone; and other
/// certificates made the same way, for tests of what a client accepts.
/// </summary>
internal static class TestCertificate
{
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private static readonly Lazy<X509Certificate2> s_certificate = new(() =>
        Make("CN=KestrelTfo test server", DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)));

    public static X509Certificate2 Instance => s_certificate.Value;

    public static bool IsTheOne(X509Certificate? certificate) =>
        certificate is not null &&
        certificate.GetCertHashString(HashAlgorithmName.SHA256) == Instance.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>Writes the certificate with its key to a new PKCS#12 file (for configuration's <c>Certificate:Path</c>); the caller deletes it.</summary>
    public static string ExportToTemporaryFile(string password)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kestreltfo-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, Instance.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    /// <summary>
    /// A new certificate with its private key, valid from <paramref name="notBefore"/> to <paramref name="notAfter"/>:
    /// self-signed, or signed by <paramref name="issuer"/> (which must hold its key); a certificate authority, or an end
    /// entity for <paramref name="usage"/>, naming <paramref name="dnsName"/> and <paramref name="address"/> when given.
    /// </summary>
    public static X509Certificate2 Make(
        string subject, DateTimeOffset notBefore, DateTimeOffset notAfter, X509Certificate2? issuer = null, bool authority = false,
        string? dnsName = null, string usage = ServerAuthentication, System.Net.IPAddress? address = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(authority, false, 0, authority));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (authority)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        }
        else
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        }

        if (dnsName is not null || address is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            if (dnsName is not null)
            {
                names.AddDnsName(dnsName);
            }

            if (address is not null)
            {
                names.AddIpAddress(address);
            }

            request.CertificateExtensions.Add(names.Build());
        }

        using var certificate = issuer is null
            ? request.CreateSelfSigned(notBefore, notAfter)
            : request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(16)).CopyWithPrivateKey(key);

        // Round-tripped through PKCS#12 so the private key is one TLS can use on every platform.
        var loaded = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        DecodeExtensions(loaded);
        return loaded;
    }

    /// <summary>
    /// Decodes what <see cref="X509Certificate2"/> decodes on first use, now, on this thread. Its instances are not
    /// thread-safe, and these certificates are shared: hosts that start at once (test classes run in parallel) each
    /// check the server certificate's extended key usage in Kestrel's <c>UseHttps</c>. Two first reads of the usages
    /// race, as <see cref="X509EnhancedKeyUsageExtension.EnhancedKeyUsages"/> publishes an empty collection before it
    /// fills it, and the loser sees no server authentication: "cannot be used as an SSL server certificate".
    /// </summary>
    private static void DecodeExtensions(X509Certificate2 certificate)
    {
        _ = certificate.Thumbprint;
        foreach (var extension in certificate.Extensions)
        {
            _ = extension switch
            {
                X509EnhancedKeyUsageExtension usages => usages.EnhancedKeyUsages.Count,
                X509KeyUsageExtension usage => (int)usage.KeyUsages,
                X509BasicConstraintsExtension constraints => constraints.CertificateAuthority ? 1 : 0,
                X509SubjectKeyIdentifierExtension identifier => identifier.SubjectKeyIdentifier?.Length ?? 0,
                _ => 0,
            };
        }
    }
}
