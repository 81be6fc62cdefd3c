using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>
/// The functions of OpenSSL 3's <c>libssl.so.3</c> this repository calls, and their constants. Only
/// <see cref="OpenSslError"/>'s rule is safe for calling them: clear the error queue before a call and read it right after,
/// on the same thread, because the queue is per thread and shared with .NET's own cryptography.
/// </summary>
internal static unsafe partial class Libssl
{
    public const string LibraryName = "libssl.so.3";

    public const int SSL_ERROR_NONE = 0;
    public const int SSL_ERROR_SSL = 1;
    public const int SSL_ERROR_WANT_READ = 2;
    public const int SSL_ERROR_WANT_WRITE = 3;
    public const int SSL_ERROR_SYSCALL = 5;
    public const int SSL_ERROR_ZERO_RETURN = 6;

    public const int TLS1_2_VERSION = 0x0303;
    public const int TLS1_3_VERSION = 0x0304;

    public const ulong SSL_OP_NO_COMPRESSION = 1UL << 17;
    public const ulong SSL_OP_CIPHER_SERVER_PREFERENCE = 1UL << 22;
    public const ulong SSL_OP_NO_RENEGOTIATION = 1UL << 30;

    public const int SSL_VERIFY_NONE = 0;
    public const int SSL_VERIFY_PEER = 1;
    public const int SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 2;

    public const int SSL_TLSEXT_ERR_OK = 0;
    public const int SSL_TLSEXT_ERR_ALERT_FATAL = 2;
    public const int SSL_TLSEXT_ERR_NOACK = 3;

    public const int SSL_AD_UNRECOGNIZED_NAME = 112;
    public const int TLSEXT_NAMETYPE_host_name = 0;

    // SSL_CTX_ctrl / SSL_ctrl commands (the macros of ssl.h are calls of these).
    public const int SSL_CTRL_SET_SESS_CACHE_MODE = 44;
    public const int SSL_CTRL_SET_TLSEXT_SERVERNAME_CB = 53;
    public const int SSL_CTRL_CHAIN_CERT = 89;
    public const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    public const int SSL_CTRL_SET_MAX_PROTO_VERSION = 124;

    public const long SSL_SESS_CACHE_SERVER = 0x0002;

    [LibraryImport(LibraryName)]
    public static partial nint TLS_server_method();

    [LibraryImport(LibraryName)]
    public static partial SafeSslContextHandle SSL_CTX_new(nint method);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_free(nint ctx);

    [LibraryImport(LibraryName)]
    public static partial long SSL_CTX_ctrl(SafeSslContextHandle ctx, int cmd, long larg, nint parg);

    [LibraryImport(LibraryName)]
    public static partial long SSL_CTX_callback_ctrl(SafeSslContextHandle ctx, int cmd, nint fp);

    [LibraryImport(LibraryName)]
    public static partial ulong SSL_CTX_set_options(SafeSslContextHandle ctx, ulong options);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_num_tickets(SafeSslContextHandle ctx, nuint count);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_use_certificate(SafeSslContextHandle ctx, nint x509);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_use_PrivateKey(SafeSslContextHandle ctx, SafeHandle pkey);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_check_private_key(SafeSslContextHandle ctx);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_session_id_context(SafeSslContextHandle ctx, byte* sidCtx, uint length);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_set_alpn_select_cb(
        SafeSslContextHandle ctx,
        delegate* unmanaged[Cdecl]<nint, byte**, byte*, byte*, uint, nint, int> callback,
        nint arg);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_set_verify(SafeSslContextHandle ctx, int mode, delegate* unmanaged[Cdecl]<int, nint, int> callback);

    [LibraryImport(LibraryName)]
    public static partial SafeSslHandle SSL_new(SafeSslContextHandle ctx);

    [LibraryImport(LibraryName)]
    public static partial void SSL_free(nint ssl);

    [LibraryImport(LibraryName)]
    public static partial long SSL_ctrl(SafeSslHandle ssl, int cmd, long larg, nint parg);

    [LibraryImport(LibraryName)]
    public static partial void SSL_set_bio(SafeSslHandle ssl, SafeBioHandle rbio, SafeBioHandle wbio);

    [LibraryImport(LibraryName)]
    public static partial void SSL_set_accept_state(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial int SSL_do_handshake(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial int SSL_read(SafeSslHandle ssl, byte* buffer, int length);

    [LibraryImport(LibraryName)]
    public static partial int SSL_peek(SafeSslHandle ssl, byte* buffer, int length);

    [LibraryImport(LibraryName)]
    public static partial int SSL_write(SafeSslHandle ssl, byte* buffer, int length);

    [LibraryImport(LibraryName)]
    public static partial int SSL_shutdown(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial int SSL_get_error(SafeSslHandle ssl, int result);

    [LibraryImport(LibraryName)]
    public static partial int SSL_version(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial int SSL_session_reused(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial nint SSL_get_current_cipher(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial uint SSL_CIPHER_get_protocol_id(nint cipher);

    [LibraryImport(LibraryName)]
    public static partial nint SSL_get_servername(nint ssl, int type);

    [LibraryImport(LibraryName)]
    public static partial void SSL_get0_alpn_selected(SafeSslHandle ssl, byte** data, uint* length);

    [LibraryImport(LibraryName)]
    public static partial SafeX509Handle SSL_get1_peer_certificate(SafeSslHandle ssl);

    /// <summary>The peer's chain, without its leaf on a server and with it on a client; owned by the SSL's session (no reference taken).</summary>
    [LibraryImport(LibraryName)]
    public static partial nint SSL_get_peer_cert_chain(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial int SSL_use_certificate(nint ssl, nint x509);

    [LibraryImport(LibraryName)]
    public static partial int SSL_use_PrivateKey(nint ssl, SafeHandle pkey);

    [LibraryImport(LibraryName)]
    public static partial long SSL_ctrl(nint ssl, int cmd, long larg, nint parg);

    [LibraryImport(LibraryName)]
    public static partial int SSL_set_ex_data(SafeSslHandle ssl, int index, nint data);

    [LibraryImport(LibraryName)]
    public static partial nint SSL_get_ex_data(nint ssl, int index);
}
