using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The self-signed certificate the benchmarks' TLS servers present, made at start-up, and the client side's trust in
/// exactly that certificate.
/// </summary>
internal static class BenchmarkCertificate
{
    /// <summary>The name the certificate is for, and the one clients ask for (Host, SNI).</summary>
    public const string HostName = "bench.test";

    /// <summary>An ECDSA P-256 certificate for <see cref="HostName"/>, valid for a day: its signatures cost far less than RSA's.</summary>
    public static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={HostName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(HostName);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // A PKCS#12 round trip gives a certificate whose key the TLS stack can use on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A chain policy that trusts <paramref name="certificate"/> alone, and spares the chain build the system store
    /// and downloads.
    /// </summary>
    public static X509ChainPolicy TrustOnly(X509Certificate2 certificate) => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        CustomTrustStore = { certificate },
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    /// <summary>Accepts exactly <paramref name="certificate"/>, whatever name the client asked for.</summary>
    public static RemoteCertificateValidationCallback AcceptOnly(X509Certificate2 certificate)
    {
        var hash = certificate.GetCertHash();
        return (_, presented, _, _) => presented is not null && presented.GetCertHash().AsSpan().SequenceEqual(hash);
    }
}
