using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.Fleet.Internal;

/// <summary>
/// The certificate every instance serves HTTPS with: one self-signed ECDSA certificate for the service address, made
/// per fleet and written as a PFX the instances read from configuration. Clients in the fleet do not verify it; what
/// they measure is resumption and early data, not trust.
/// </summary>
internal static class FleetCertificate
{
    public const string FileName = "certificate.pfx";

    /// <summary>Makes the certificate and writes it, without a password, to <paramref name="path"/>.</summary>
    public static void Write(string path)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kestreltfo-fleet", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(FleetAddresses.Service);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx));
    }
}
