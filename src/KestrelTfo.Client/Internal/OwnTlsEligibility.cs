using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using KestrelTfo.OpenSsl;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Which HTTPS requests the client's own TLS takes: those SocketsHttpHandler would send over HTTP/1.1 on a direct TLS
/// connection it authenticates only by the server's certificate. Everything else stays with the handler's own TLS,
/// so that nothing the caller configured is dropped.
/// </summary>
internal static class OwnTlsEligibility
{
    /// <summary>Why none of a handler's requests can go over the client's own TLS; null when they can.</summary>
    public static string? WhyNotHandler(SocketsHttpHandler handler)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the client's own TLS runs on Linux only";
        }

        if (!OpenSslLibrary.IsAvailable)
        {
            return $"OpenSSL 3 could not be loaded ({OpenSslLibrary.UnavailableReason})";
        }

        var ssl = handler.SslOptions;
        if (handler.ConnectCallback is { Target: not FastOpenConnectCallback })
        {
            return "the handler has a ConnectCallback of its own, which decides where and how it connects";
        }

        if (handler.PlaintextStreamFilter is not null)
        {
            return "the handler has a PlaintextStreamFilter";
        }

        if (handler.Credentials is not null)
        {
            return "the handler has Credentials, whose authentication challenges SocketsHttpHandler answers";
        }

        if (ssl.ClientCertificates is { Count: > 0 } || ssl.LocalCertificateSelectionCallback is not null || ssl.ClientCertificateContext is not null)
        {
            return "the handler sends client certificates";
        }

        if (ssl.CipherSuitesPolicy is not null)
        {
            return "the handler has a CipherSuitesPolicy";
        }

#pragma warning disable CA5398 // Reads the caller's choice; chooses nothing.
        if (ssl.EnabledSslProtocols != SslProtocols.None && !ssl.EnabledSslProtocols.HasFlag(SslProtocols.Tls13))
#pragma warning restore CA5398
        {
            return $"the handler's EnabledSslProtocols ({ssl.EnabledSslProtocols}) exclude TLS 1.3";
        }

        if (!ssl.AllowTlsResume)
        {
            return "the handler's SslOptions.AllowTlsResume is false";
        }

        if (ssl.TargetHost is not null)
        {
            return "the handler's SslOptions.TargetHost is set";
        }

        return null;
    }

    /// <summary>Why this request stays on the handler's own TLS; null when the client's own TLS may take it.</summary>
    public static string? WhyNotRequest(HttpRequestMessage request, SocketsHttpHandler handler)
    {
        var uri = request.RequestUri;
        if (uri is null || !uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttps)
        {
            return "not an https URI";
        }

        if (request.Version.Major >= 2 || request.VersionPolicy == HttpVersionPolicy.RequestVersionOrHigher)
        {
            return "it may use HTTP/2 or later";
        }

        if (uri.HostNameType == UriHostNameType.IPv6 && uri.DnsSafeHost.Contains('%', StringComparison.Ordinal))
        {
            return "its IPv6 address has a zone";
        }

        if (request.Headers.Host is not null)
        {
            return "it sets Host, which SocketsHttpHandler also sends as the server name";
        }

        if (handler.UseProxy && (handler.Proxy ?? HttpClient.DefaultProxy) is { } proxy && UsesProxy(proxy, uri))
        {
            return "it goes through a proxy";
        }

        return null;
    }

    private static bool UsesProxy(IWebProxy proxy, Uri uri)
    {
        try
        {
            return !proxy.IsBypassed(uri) && proxy.GetProxy(uri) is { } proxyUri && proxyUri != uri;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A proxy that cannot answer: the handler will ask it again and report what it says.
            return true;
        }
    }
}
