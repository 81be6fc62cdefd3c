using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>A self-signed server certificate made at test time, which test clients trust by its thumbprint alone.</summary>
internal static class TestCertificate
{
    private static readonly Lazy<X509Certificate2> s_certificate = new(Create);

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

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=KestrelTfo test server", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        // Round-tripped through PKCS#12 so the private key is one TLS can use on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
