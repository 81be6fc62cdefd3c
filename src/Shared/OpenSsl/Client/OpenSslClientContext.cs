using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace KestrelTfo.OpenSsl.Client;

/// <summary>
/// A client's TLS settings as an OpenSSL <c>SSL_CTX</c> in client mode (TLS 1.2 and 1.3, the ALPN protocols to offer,
/// the caller's certificate check) and the sessions its servers gave it, which later connections resume and send early
/// data with. One per client, shared by its connections.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class OpenSslClientContext : IDisposable
{
    private readonly SafeSslContextHandle _context;

    /// <param name="applicationProtocols">The ALPN protocols to offer, in preference order; none for no ALPN.</param>
    /// <param name="validateServerCertificate">The whole check of a server's certificate (see <see cref="OpenSslCertificateValidator"/>).</param>
    /// <param name="sessionCapacity">How many sessions to keep, over all servers.</param>
    /// <param name="tls13Only">Refuse TLS 1.2, as a caller that enabled only TLS 1.3 asked.</param>
    public OpenSslClientContext(
        IReadOnlyList<SslApplicationProtocol> applicationProtocols, OpenSslCertificateValidator validateServerCertificate, int sessionCapacity = 256, bool tls13Only = false)
    {
        ArgumentNullException.ThrowIfNull(applicationProtocols);
        ArgumentNullException.ThrowIfNull(validateServerCertificate);
        ValidateServerCertificate = validateServerCertificate;
        Sessions = new OpenSslSessionStore(sessionCapacity);
        ApplicationProtocolsKey = string.Join(',', applicationProtocols);

        OpenSslError.Clear();
        _context = Libssl.SSL_CTX_new(Libssl.TLS_client_method());
        if (_context.IsInvalid)
        {
            throw OpenSslError.Exception("SSL_CTX_new");
        }

        try
        {
            Control(Libssl.SSL_CTRL_SET_MIN_PROTO_VERSION, tls13Only ? Libssl.TLS1_3_VERSION : Libssl.TLS1_2_VERSION, "SSL_CTX_set_min_proto_version");
            Control(Libssl.SSL_CTRL_SET_MAX_PROTO_VERSION, Libssl.TLS1_3_VERSION, "SSL_CTX_set_max_proto_version");
            Libssl.SSL_CTX_set_options(_context, Libssl.SSL_OP_NO_RENEGOTIATION | Libssl.SSL_OP_NO_COMPRESSION);

            // OpenSSL hands each new session to the callback and keeps none itself: the store decides what is kept and
            // makes each session single use, which OpenSSL's own client cache would not.
            Libssl.SSL_CTX_ctrl(_context, Libssl.SSL_CTRL_SET_SESS_CACHE_MODE, Libssl.SSL_SESS_CACHE_CLIENT | Libssl.SSL_SESS_CACHE_NO_INTERNAL_STORE, 0);
            Libssl.SSL_CTX_sess_set_new_cb(_context, &OnNewSession);

            // VERIFY_PEER makes a refusal end the handshake; the callback replaces OpenSSL's chain check, which would
            // need a trust store this client does not have.
            Libssl.SSL_CTX_set_verify(_context, Libssl.SSL_VERIFY_PEER, null);
            Libssl.SSL_CTX_set_cert_verify_callback(_context, &VerifyServerCertificate, 0);

            if (applicationProtocols.Count > 0)
            {
                var list = AlpnList(applicationProtocols);
                fixed (byte* protocols = list)
                {
                    if (Libssl.SSL_CTX_set_alpn_protos(_context, protocols, (uint)list.Length) != 0)
                    {
                        throw OpenSslError.Exception("SSL_CTX_set_alpn_protos");
                    }
                }
            }

            OpenSslError.Clear();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public OpenSslSessionStore Sessions { get; }

    /// <summary>The ALPN protocols offered, as part of the name its sessions are stored under.</summary>
    public string ApplicationProtocolsKey { get; }

    public OpenSslCertificateValidator ValidateServerCertificate { get; }

    /// <summary>Whether the SSL_CTX is freed (after <see cref="Dispose"/>).</summary>
    internal bool IsReleased => _context.IsClosed;

    /// <summary>A new connection's SSL, in client mode.</summary>
    public SafeSslHandle NewSsl()
    {
        OpenSslError.Clear();
        var ssl = Libssl.SSL_new(_context);
        if (ssl.IsInvalid)
        {
            throw OpenSslError.Exception("SSL_new");
        }

        Libssl.SSL_set_connect_state(ssl);
        return ssl;
    }

    public void Dispose()
    {
        _context.Dispose();
        Sessions.Dispose();
    }

    /// <summary>ALPN's wire form: each protocol's length, then its bytes.</summary>
    private static byte[] AlpnList(IReadOnlyList<SslApplicationProtocol> protocols)
    {
        var list = new List<byte>();
        foreach (var protocol in protocols)
        {
            var name = protocol.Protocol.Span;
            if (name.Length is 0 or > byte.MaxValue)
            {
                throw new ArgumentException($"An ALPN protocol is 1 to 255 bytes long; '{protocol}' is {name.Length}.", nameof(protocols));
            }

            list.Add((byte)name.Length);
            list.AddRange(name);
        }

        return [.. list];
    }

    private void Control(int command, long value, string name)
    {
        if (Libssl.SSL_CTX_ctrl(_context, command, value, 0) != 1)
        {
            throw OpenSslError.Exception(name, value.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A session (a TLS 1.3 ticket, after the handshake, or a TLS 1.2 session) to keep; 1 when the store took OpenSSL's reference.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnNewSession(nint ssl, nint session)
    {
        try
        {
            if (OpenSslClientConnection.FromSsl(ssl) is not { } connection || Libssl.SSL_SESSION_is_resumable(session) != 1)
            {
                return 0;
            }

            connection.Keep(session);
            return 1;
        }
        catch
        {
            return 0;
        }
    }

    /// <summary>The server's certificate, during a full handshake: the connection asks the caller's validator.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int VerifyServerCertificate(nint storeContext, nint arg)
    {
        try
        {
            var ssl = Libcrypto.X509_STORE_CTX_get_ex_data(storeContext, Libssl.SSL_get_ex_data_X509_STORE_CTX_idx());
            return OpenSslClientConnection.FromSsl(ssl) is { } connection && connection.Validate(storeContext) ? 1 : 0;
        }
        catch
        {
            return 0;
        }
    }
}
