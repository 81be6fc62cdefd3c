using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Checks a server's certificate for the client's own TLS as SslStream does for SocketsHttpHandler: a chain to the
/// system's trust store (or the caller's <see cref="SslClientAuthenticationOptions.CertificateChainPolicy"/>) for server
/// authentication, revocation as <see cref="SslClientAuthenticationOptions.CertificateRevocationCheckMode"/> says, the
/// host name, then the caller's <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/> with
/// what failed. A refusal throws an <see cref="AuthenticationException"/> worded as SslStream words it.
/// </summary>
/// <param name="settings">The handler's TLS options; what the check uses is copied now, as SocketsHttpHandler copies them at its first request.</param>
/// <param name="sender">What the caller's callback gets as its sender.</param>
internal sealed class ServerCertificateCheck(SslClientAuthenticationOptions settings, object sender)
{
    private static readonly Oid s_serverAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly RemoteCertificateValidationCallback? _callback = settings.RemoteCertificateValidationCallback;
    private readonly X509ChainPolicy? _chainPolicy = settings.CertificateChainPolicy?.Clone();
    private readonly X509RevocationMode _revocation = settings.CertificateRevocationCheckMode;

    // What the chain is built with: the caller's chain policy's revocation mode when it gives one.
    private X509RevocationMode Revocation => _chainPolicy?.RevocationMode ?? _revocation;

    /// <summary>
    /// The check of a resumed session's certificate, which <see cref="Validate"/> accepted for the same host when the
    /// session was made, under the same options (copied at the first request). With a callback, or a revocation check,
    /// the whole check runs again: the callback sees every connection, as with SslStream, and a revocation may be new.
    /// Otherwise only time can change the answer, so only the certificates' validity periods are checked; a chain build
    /// per connection would cost a returning client's GET a third of a millisecond before its response.
    /// </summary>
    public bool ValidateResumed(string hostName, X509Certificate2 certificate, X509Certificate2Collection sent)
    {
        if (_callback is not null || Revocation != X509RevocationMode.NoCheck)
        {
            return Validate(hostName, certificate, sent);
        }

        var now = DateTime.Now;
        return certificate.NotBefore <= now && now <= certificate.NotAfter && sent.All(link => link.NotBefore <= now && now <= link.NotAfter)
            ? true
            : throw new AuthenticationException("The remote certificate is invalid because of errors in the certificate chain: NotTimeValid");
    }

    public bool Validate(string hostName, X509Certificate2 certificate, X509Certificate2Collection sent)
    {
        // Not disposed with its certificates: a callback may keep them, as it may with SslStream's chain.
        using var chain = new X509Chain();
        if (_chainPolicy is { } policy)
        {
            chain.ChainPolicy = policy.Clone();
        }
        else
        {
            chain.ChainPolicy.RevocationMode = _revocation switch
            {
                X509RevocationMode.Online => X509RevocationMode.Online,
                X509RevocationMode.Offline => X509RevocationMode.Offline,
                _ => X509RevocationMode.NoCheck,
            };
            chain.ChainPolicy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
        }

        chain.ChainPolicy.ApplicationPolicy.Add(s_serverAuthentication);
        chain.ChainPolicy.ExtraStore.AddRange(sent);
        var errors = SslPolicyErrors.None;
        if (!chain.Build(certificate))
        {
            errors |= SslPolicyErrors.RemoteCertificateChainErrors;
        }

        if (!certificate.MatchesHostname(hostName))
        {
            errors |= SslPolicyErrors.RemoteCertificateNameMismatch;
        }

        if (_callback is { } callback)
        {
            return callback(sender, certificate, chain, errors)
                ? true
                : throw new AuthenticationException("The remote certificate was rejected by the provided RemoteCertificateValidationCallback.");
        }

        if (errors == SslPolicyErrors.RemoteCertificateChainErrors)
        {
            var statuses = string.Join(", ", chain.ChainStatus.Select(status => status.Status).Distinct());
            throw new AuthenticationException($"The remote certificate is invalid because of errors in the certificate chain: {statuses}");
        }

        return errors == SslPolicyErrors.None
            ? true
            : throw new AuthenticationException($"The remote certificate is invalid according to the validation procedure: {errors}");
    }
}
