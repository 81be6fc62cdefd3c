using System.Net;
using System.Net.Http;
using System.Runtime.Versioning;
using KestrelTfo.Client.Internal;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Client;

/// <summary>
/// Sends HTTPS requests over KestrelTfo.Client's own TLS (OpenSSL 3) when its connector's
/// <see cref="FastOpenConnectOptions.TlsEarlyData"/> is on: TLS 1.3 sessions are resumed, and a new connection's first
/// request goes as early data with the ClientHello when it is safe to repeat, so a returning client's first response
/// comes one round trip after the SYN (with TCP Fast Open) instead of two. Everything else goes to the inner
/// <see cref="SocketsHttpHandler"/> unchanged.
/// </summary>
/// <remarks>
/// <para>
/// Early data can be replayed by an attacker, so only a first request that is exactly one GET, HEAD or OPTIONS request
/// head without a body, and without an <c>Early-Data</c> field (a request a proxy received as early data itself), is
/// sent early. Any other request waits for the handshake. Early data the server declines is sent again after the
/// handshake, once; a connection that fails is not retried with early data.
/// </para>
/// <para>
/// The client's own TLS takes an <c>https</c> request that SocketsHttpHandler would send over HTTP/1.1 (version 1.x,
/// not <see cref="HttpVersionPolicy.RequestVersionOrHigher"/>), straight to the server (no proxy applies), without a
/// <c>Host</c> set by the caller, asynchronously (<see cref="HttpClient.Send(HttpRequestMessage)"/> stays on the inner
/// handler), from a handler without a <see cref="SocketsHttpHandler.ConnectCallback"/> of its own (one <c>UseFastOpen</c>
/// installed is fine), a <see cref="SocketsHttpHandler.PlaintextStreamFilter"/>, <see cref="SocketsHttpHandler.Credentials"/> or client certificates, whose
/// <see cref="SocketsHttpHandler.SslOptions"/> allow TLS 1.3 and resumption and set no <c>TargetHost</c> or
/// <c>CipherSuitesPolicy</c>. It runs on Linux with OpenSSL 3; elsewhere every request goes to the inner handler.
/// HTTP/2 requests (gRPC) stay on SocketsHttpHandler's TLS: it writes a request separately from the connection's
/// preface, so early data could carry only the preface, which saves no round trip.
/// </para>
/// <para>
/// What the caller sees stays as SocketsHttpHandler gives it: the request's URI and headers, the response, redirects
/// (the inner handler's <see cref="SocketsHttpHandler.AllowAutoRedirect"/> and <see cref="SocketsHttpHandler.MaxAutomaticRedirections"/>,
/// never from https to http), cookies (its <see cref="SocketsHttpHandler.CookieContainer"/>), timeouts and cancellation.
/// The server's certificate is checked as SslStream checks it: the system's trust store or the handler's
/// <see cref="System.Net.Security.SslClientAuthenticationOptions.CertificateChainPolicy"/>, revocation as configured, the
/// host name, then the handler's <see cref="System.Net.Security.SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>
/// (whose sender is this handler), on every connection, a resumed one's with its session's certificate; a failure is an
/// <see cref="HttpRequestException"/> with <see cref="HttpRequestError.SecureConnectionError"/>. A <c>425 Too Early</c>
/// answer is retried once through the inner handler, which sends nothing early (RFC 8470 §5.2). Connections of the
/// client's own TLS are pooled apart from the inner handler's, with its settings as they were at the first request.
/// </para>
/// </remarks>
public sealed class FastOpenHttpsHandler : DelegatingHandler
{
    // RFC 8470 §5.2.
    private const HttpStatusCode TooEarly = (HttpStatusCode)425;

    private readonly SocketsHttpHandler _settings;
    private readonly FastOpenConnector _connector;
    private readonly Lock _lock = new();
    private OwnTlsClient? _ownTls;
    private string? _off;
    private bool _checked;
    private bool _disposed;

    /// <summary>Creates the handler.</summary>
    /// <param name="innerHandler">
    /// The handler for every request the client's own TLS does not take, and whose settings its connections follow. Its
    /// own connections open as it is configured: call <c>UseFastOpen(connector)</c> on it for TCP Fast Open there too.
    /// </param>
    /// <param name="connector">The connector; its options' <see cref="FastOpenConnectOptions.TlsEarlyData"/> turns this handler on.</param>
    public FastOpenHttpsHandler(SocketsHttpHandler innerHandler, FastOpenConnector connector)
        : base(innerHandler)
    {
        ArgumentNullException.ThrowIfNull(connector);
        _settings = innerHandler;
        _connector = connector;
    }

    /// <summary>How many sessions the client's own TLS holds now, for tests.</summary>
    internal int StoredSessions => OperatingSystem.IsLinux() ? Volatile.Read(ref _ownTls)?.StoredSessions ?? 0 : 0;

    /// <inheritdoc/>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // WhyOff says why on every platform; the platform check after it is for the analyzer.
        if (!_connector.Options.TlsEarlyData || WhyOff() is not null || !OperatingSystem.IsLinux())
        {
            return base.SendAsync(request, cancellationToken);
        }

        if (OwnTlsEligibility.WhyNotRequest(request, _settings) is { } reason)
        {
            if (request.RequestUri is { IsAbsoluteUri: true, Scheme: "https" } uri)
            {
                FastOpenClientLog.RequestOnHandlerTls(_connector.Dialer.Logger, request.Method.Method, uri, reason);
            }

            return base.SendAsync(request, cancellationToken);
        }

        return SendWithRedirectsAsync(OwnTls(), request, cancellationToken);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_lock)
            {
                _disposed = true;
                if (OperatingSystem.IsLinux())
                {
                    _ownTls?.Dispose();
                }
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Why none of this handler's requests can go over the client's own TLS (the platform, OpenSSL, the handler's
    /// settings), decided and logged once, at the first request; null when they can.
    /// </summary>
    private string? WhyOff()
    {
        if (Volatile.Read(ref _checked))
        {
            return _off;
        }

        lock (_lock)
        {
            if (!_checked)
            {
                _off = OwnTlsEligibility.WhyNotHandler(_settings);
                if (_off is not null)
                {
                    FastOpenClientLog.TlsEarlyDataOff(_connector.Dialer.Logger, _off);
                }

                Volatile.Write(ref _checked, true);
            }

            return _off;
        }
    }

    /// <summary>The client's own TLS, made at the first request that uses it, once <see cref="WhyOff"/> found nothing.</summary>
    [SupportedOSPlatform("linux")]
    private OwnTlsClient OwnTls()
    {
        if (Volatile.Read(ref _ownTls) is { } ready)
        {
            return ready;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_ownTls is null)
            {
                Volatile.Write(ref _ownTls, new OwnTlsClient(_settings, _connector, this));
            }

            return _ownTls;
        }
    }

    /// <summary>SocketsHttpHandler's redirect loop (see <see cref="Redirects"/>), each hop sent where it belongs.</summary>
    [SupportedOSPlatform("linux")]
    private async Task<HttpResponseMessage> SendWithRedirectsAsync(OwnTlsClient ownTls, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await SendOnceAsync(ownTls, request, cancellationToken).ConfigureAwait(false);
        if (!_settings.AllowAutoRedirect)
        {
            return response;
        }

        for (var redirects = 1; Redirects.Target(request.RequestUri!, response) is { } target; redirects++)
        {
            if (redirects > _settings.MaxAutomaticRedirections)
            {
                return response;
            }

            var statusCode = response.StatusCode;
            response.Dispose();
            request.Headers.Authorization = null;
            request.RequestUri = target;
            if (Redirects.ForcesGet(statusCode, request.Method))
            {
                request.Method = HttpMethod.Get;
                request.Content = null;
                if (request.Headers.TransferEncodingChunked == true)
                {
                    request.Headers.TransferEncodingChunked = false;
                }
            }

            if (OwnTlsEligibility.WhyNotRequest(request, _settings) is not null)
            {
                // An https target the client's own TLS does not take (a proxy applies to it): the inner handler sends it
                // and follows what comes next.
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            response = await SendOnceAsync(ownTls, request, cancellationToken).ConfigureAwait(false);
        }

        return response;
    }

    /// <summary>
    /// One request over the client's own TLS: its inner handler gets it with an http URI to the same host and port (so it
    /// speaks plain HTTP/1.1 over a connection that is TLS underneath), the Host the https URI gives, and the cookies the
    /// caller's container holds for the https URI; the request is as it was when this returns or throws. A 425 (Too
    /// Early) is answered as RFC 8470 §5.2 asks: the request is sent again, once, never in early data.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private async Task<HttpResponseMessage> SendOnceAsync(OwnTlsClient ownTls, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var cookies = _settings.UseCookies ? _settings.CookieContainer.GetCookieHeader(uri) : string.Empty;
        var callersCookies = request.Headers.TryGetValues("Cookie", out var values) ? values.ToArray() : null;
        var host = uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost}]" : uri.IdnHost;
        HttpResponseMessage response;
        try
        {
            request.RequestUri = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttp, Port = uri.Port }.Uri;
            request.Headers.Host = uri.IsDefaultPort ? host : $"{host}:{uri.Port}";
            if (cookies.Length > 0)
            {
                // The caller's own Cookie values, then the container's.
                request.Headers.Remove("Cookie");
                request.Headers.TryAddWithoutValidation("Cookie", callersCookies is null ? cookies : $"{string.Join("; ", callersCookies)}; {cookies}");
            }

            response = await ownTls.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } handshake)
        {
            // The handshake failed in the handler's first write: the caller gets it as the handler's own TLS gives it.
            throw handshake;
        }
        finally
        {
            request.RequestUri = uri;
            request.Headers.Host = null;
            if (cookies.Length > 0)
            {
                request.Headers.Remove("Cookie");
                if (callersCookies is not null)
                {
                    request.Headers.TryAddWithoutValidation("Cookie", callersCookies);
                }
            }
        }

        if (_settings.UseCookies && response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                try
                {
                    _settings.CookieContainer.SetCookies(uri, setCookie);
                }
                catch (CookieException)
                {
                    // SocketsHttpHandler ignores a cookie the container refuses, too.
                }
            }
        }

        if (response.StatusCode == TooEarly && request.Content is null
            && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options))
        {
            // Only such a request can have gone early; the inner handler's TLS sends nothing early.
            FastOpenClientLog.RequestOnHandlerTls(_connector.Dialer.Logger, request.Method.Method, uri, "the server answered 425 (Too Early)");
            response.Dispose();
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        return response;
    }
}
