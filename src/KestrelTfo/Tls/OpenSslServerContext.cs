using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.OpenSsl;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KestrelTfo.Tls;

/// <summary>
/// One endpoint's TLS settings as an OpenSSL <c>SSL_CTX</c>, made once from its <see cref="HttpsConnectionAdapterOptions"/>:
/// the certificate, protocol versions, ALPN, SNI, client certificates, and the ticket keys its connections share (so a
/// ticket from one connection resumes another). Settings it cannot honour fail here, at start-up.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class OpenSslServerContext : IDisposable
{
    private static readonly byte[] s_h2 = "h2"u8.ToArray();
    private static readonly byte[] s_http11 = "http/1.1"u8.ToArray();
    private static readonly byte[] s_sessionIdContext = "KestrelTfo"u8.ToArray();

    private readonly SafeSslContextHandle _context;
    private readonly OpenSslCertificate? _certificate;
    private readonly ConditionalWeakTable<X509Certificate2, OpenSslCertificate> _selected = new();
    private readonly OpenSslTicketKeyCallback? _ticketKeys;
    private GCHandle _self;

    /// <param name="options">The endpoint's HTTPS options.</param>
    /// <param name="protocols">The endpoint's HTTP protocols, for ALPN.</param>
    /// <param name="ticketKeys">The app's configured ticket keys; null for a random ticket key of this context's own.</param>
    /// <param name="earlyData">The instance's replay record when the endpoint accepts early data; null when it does not.</param>
    /// <param name="maxEarlyDataSize">The most early data one connection may send, in bytes.</param>
    public OpenSslServerContext(
        HttpsConnectionAdapterOptions options, HttpProtocols protocols, TicketKeyRing? ticketKeys = null, TlsAntiReplay? earlyData = null, int maxEarlyDataSize = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        RejectUnsupported(options);
        Options = options;
        AntiReplay = earlyData;
        MaxEarlyDataSize = earlyData is null ? 0 : maxEarlyDataSize;
        (var minimum, var maximum) = VersionRange(options.SslProtocols);

        // Server preference order, as Kestrel's: HTTP/2 first. Only TLS 1.2 and 1.3 are served, so h2's floor holds.
        ApplicationProtocols = [.. (protocols & HttpProtocols.Http2) != 0 ? new[] { s_h2 } : [], .. (protocols & HttpProtocols.Http1) != 0 ? new[] { s_http11 } : []];

        OpenSslError.Clear();
        _context = Libssl.SSL_CTX_new(Libssl.TLS_server_method());
        if (_context.IsInvalid)
        {
            throw OpenSslError.Exception("SSL_CTX_new");
        }

        try
        {
            Control(Libssl.SSL_CTRL_SET_MIN_PROTO_VERSION, minimum, "SSL_CTX_set_min_proto_version");
            Control(Libssl.SSL_CTRL_SET_MAX_PROTO_VERSION, maximum, "SSL_CTX_set_max_proto_version");
            Control(Libssl.SSL_CTRL_SET_SESS_CACHE_MODE, Libssl.SSL_SESS_CACHE_SERVER, "SSL_CTX_set_session_cache_mode", expectOne: false);

            // One TLS 1.3 ticket per handshake, not OpenSSL's two: a client resumes with one, and each costs the server
            // an encryption and a record on every full handshake.
            OpenSslError.Check(Libssl.SSL_CTX_set_num_tickets(_context, 1), "SSL_CTX_set_num_tickets");

            // Renegotiation is refused (SslStream's server does not start one either); compression is CRIME.
            Libssl.SSL_CTX_set_options(_context, Libssl.SSL_OP_NO_RENEGOTIATION | Libssl.SSL_OP_NO_COMPRESSION | Libssl.SSL_OP_CIPHER_SERVER_PREFERENCE);

            // Without a session id context OpenSSL refuses to resume a session whose client sent a certificate.
            fixed (byte* sid = s_sessionIdContext)
            {
                OpenSslError.Check(Libssl.SSL_CTX_set_session_id_context(_context, sid, (uint)s_sessionIdContext.Length), "SSL_CTX_set_session_id_context");
            }

            _ticketKeys = OpenSslTicketKeyCallback.Install(_context, ticketKeys);

            if (options.ServerCertificate is { } certificate)
            {
                _certificate = OpenSslCertificate.Create(certificate, options.ServerCertificateChain);
                _certificate.InstallOn(_context);
            }
            else if (options.ServerCertificateSelector is null)
            {
                throw new InvalidOperationException("The TLS layer on OpenSSL needs HttpsConnectionAdapterOptions.ServerCertificate or ServerCertificateSelector.");
            }

            _self = GCHandle.Alloc(this, GCHandleType.Weak);
            if (ApplicationProtocols.Length > 0)
            {
                Libssl.SSL_CTX_set_alpn_select_cb(_context, &SelectApplicationProtocol, GCHandle.ToIntPtr(_self));
            }

            // Every ClientHello: whether it offers early data, and the extension that identifies a 0-RTT one.
            Libssl.SSL_CTX_set_client_hello_cb(_context, &OnClientHello, 0);
            if (earlyData is not null)
            {
                OpenSslError.Check(Libssl.SSL_CTX_set_max_early_data(_context, (uint)maxEarlyDataSize), "SSL_CTX_set_max_early_data");
                OpenSslError.Check(Libssl.SSL_CTX_set_recv_max_early_data(_context, (uint)maxEarlyDataSize), "SSL_CTX_set_recv_max_early_data");

                // OpenSSL's own anti-replay keeps tickets in this process's cache and lets each resume once: no ticket
                // would resume on another instance or after a restart. Tickets stay stateless; the record is the defence.
                Libssl.SSL_CTX_set_options(_context, Libssl.SSL_OP_NO_ANTI_REPLAY);
                Libssl.SSL_CTX_set_allow_early_data_cb(_context, &AllowEarlyData, GCHandle.ToIntPtr(_self));
            }

            // Called for every ClientHello, with or without SNI, before the certificate is chosen.
            if (options.ServerCertificateSelector is not null)
            {
                delegate* unmanaged[Cdecl]<nint, int*, nint, int> onServerName = &OnServerName;
                Libssl.SSL_CTX_callback_ctrl(_context, Libssl.SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, (nint)onServerName);
            }

            // OpenSSL accepts any certificate (it has no trust store here); the layer validates it as Kestrel does, after.
            var verify = options.ClientCertificateMode switch
            {
                ClientCertificateMode.AllowCertificate => Libssl.SSL_VERIFY_PEER,
                ClientCertificateMode.RequireCertificate => Libssl.SSL_VERIFY_PEER | Libssl.SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                _ => Libssl.SSL_VERIFY_NONE,
            };
            Libssl.SSL_CTX_set_verify(_context, verify, verify == Libssl.SSL_VERIFY_NONE ? null : &AcceptAnyCertificate);
            OpenSslError.Clear();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public HttpsConnectionAdapterOptions Options { get; }

    /// <summary>The instance's replay record when this endpoint accepts early data; null when it does not.</summary>
    public TlsAntiReplay? AntiReplay { get; }

    /// <summary>The most early data one connection may send, in bytes; 0 where the endpoint accepts none.</summary>
    public int MaxEarlyDataSize { get; }

    /// <summary>
    /// Whether configured ticket keys (<c>TicketKey</c>) are in force now, so tickets issued before this instance started,
    /// or by another instance, may resume here; false while each endpoint uses a random key of its own.
    /// </summary>
    public bool HasConfiguredTicketKeys => _ticketKeys?.HasConfiguredKeys ?? false;

    /// <summary>Whether the SSL_CTX is freed (after <see cref="Dispose"/>).</summary>
    internal bool IsReleased => _context.IsClosed;

    /// <summary>The ALPN protocols served, in preference order.</summary>
    public byte[][] ApplicationProtocols { get; }


    /// <summary>A new connection's SSL, in server mode.</summary>
    public SafeSslHandle NewSsl()
    {
        OpenSslError.Clear();
        var ssl = Libssl.SSL_new(_context);
        if (ssl.IsInvalid)
        {
            throw OpenSslError.Exception("SSL_new");
        }

        Libssl.SSL_set_accept_state(ssl);
        return ssl;
    }

    /// <summary>Installs the certificate the selector picked on one connection; false when there is none to install.</summary>
    public bool TryInstallSelected(nint ssl, X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        if (!_selected.TryGetValue(certificate, out var converted))
        {
            converted = _selected.GetValue(certificate, c => OpenSslCertificate.Create(c, chain: null));
        }

        return converted.TryInstallOn(ssl);
    }

    public void Dispose()
    {
        if (_self.IsAllocated)
        {
            _self.Free();
        }

        _ticketKeys?.Dispose();
        _context.Dispose();
        _certificate?.Dispose();
    }

    private static void RejectUnsupported(HttpsConnectionAdapterOptions options)
    {
        if (options.OnAuthenticate is not null)
        {
            throw new NotSupportedException("HttpsConnectionAdapterOptions.OnAuthenticate configures SslStream, which the TLS layer on OpenSSL does not use; remove it or serve this endpoint with UseHttps.");
        }

        if (options.TlsClientHelloBytesCallback is not null)
        {
            throw new NotSupportedException("HttpsConnectionAdapterOptions.TlsClientHelloBytesCallback is not supported by the TLS layer on OpenSSL; remove it or serve this endpoint with UseHttps.");
        }

        if (options.ClientCertificateMode == ClientCertificateMode.DelayCertificate)
        {
            throw new NotSupportedException("ClientCertificateMode.DelayCertificate needs renegotiation or post-handshake authentication, which the TLS layer on OpenSSL does not offer; use AllowCertificate or RequireCertificate, or serve this endpoint with UseHttps.");
        }
    }

    private static (int Minimum, int Maximum) VersionRange(SslProtocols protocols)
    {
        if (protocols == SslProtocols.None)
        {
            return (Libssl.TLS1_2_VERSION, Libssl.TLS1_3_VERSION);
        }

        if ((protocols & ~(SslProtocols.Tls12 | SslProtocols.Tls13)) != 0)
        {
            throw new NotSupportedException($"HttpsConnectionAdapterOptions.SslProtocols is {protocols}: the TLS layer on OpenSSL serves TLS 1.2 and 1.3 only.");
        }

        return ((protocols & SslProtocols.Tls12) != 0 ? Libssl.TLS1_2_VERSION : Libssl.TLS1_3_VERSION,
                (protocols & SslProtocols.Tls13) != 0 ? Libssl.TLS1_3_VERSION : Libssl.TLS1_2_VERSION);
    }

    private void Control(int command, long value, string name, bool expectOne = true)
    {
        var result = Libssl.SSL_CTX_ctrl(_context, command, value, 0);
        if (expectOne && result != 1)
        {
            throw OpenSslError.Exception(name, value.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>ALPN: the first of the server's protocols that the client offers; the answer points into the client's list.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SelectApplicationProtocol(nint ssl, byte** selected, byte* selectedLength, byte* offered, uint offeredLength, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is not OpenSslServerContext server)
            {
                return Libssl.SSL_TLSEXT_ERR_NOACK;
            }

            var list = new ReadOnlySpan<byte>(offered, (int)offeredLength);
            foreach (var protocol in server.ApplicationProtocols)
            {
                for (var at = 0; at < list.Length;)
                {
                    var length = list[at];
                    if (at + 1 + length > list.Length)
                    {
                        break;
                    }

                    if (list.Slice(at + 1, length).SequenceEqual(protocol))
                    {
                        *selected = offered + at + 1;
                        *selectedLength = length;
                        return Libssl.SSL_TLSEXT_ERR_OK;
                    }

                    at += 1 + length;
                }
            }

            // No protocol in common: go on without ALPN, as SslStream does, and HTTP/1.1 is assumed.
            return Libssl.SSL_TLSEXT_ERR_NOACK;
        }
        catch
        {
            return Libssl.SSL_TLSEXT_ERR_NOACK;
        }
    }

    /// <summary>SNI: asks the app's selector for this connection's certificate; an unknown name ends this handshake only.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnServerName(nint ssl, int* alert, nint arg)
    {
        try
        {
            var connection = OpenSslConnection.FromSsl(ssl);
            if (connection is not null && connection.SelectCertificate(ssl))
            {
                return Libssl.SSL_TLSEXT_ERR_OK;
            }
        }
        catch
        {
            // A selector that throws is a selector that found nothing; the connection's log says which.
        }

        *alert = Libssl.SSL_AD_UNRECOGNIZED_NAME;
        return Libssl.SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnClientHello(nint ssl, int* alert, nint arg)
    {
        try
        {
            OpenSslConnection.FromSsl(ssl)?.OnClientHello(ssl);
        }
        catch
        {
            // Nothing here may fail a handshake: without what it notes, early data is declined.
        }

        return Libssl.SSL_CLIENT_HELLO_SUCCESS;
    }

    /// <summary>OpenSSL found nothing against early data (a resumed ticket, young enough); the replay record decides.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AllowEarlyData(nint ssl, nint arg)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is OpenSslServerContext { AntiReplay: { } antiReplay } && OpenSslConnection.FromSsl(ssl) is { } connection)
            {
                return connection.DecideEarlyData(antiReplay) ? 1 : 0;
            }
        }
        catch
        {
            // Declined: early data is never accepted unchecked.
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AcceptAnyCertificate(int preverified, nint store) => 1;

    /// <summary>The host name the client asked for by SNI, or null.</summary>
    public static string? ServerName(nint ssl)
    {
        var name = Libssl.SSL_get_servername(ssl, Libssl.TLSEXT_NAMETYPE_host_name);
        return name == 0 ? null : Marshal.PtrToStringUTF8(name);
    }
}
