using System.Runtime.InteropServices;
using KestrelTfo.OpenSsl.Client;

namespace KestrelTfo.OpenSsl;

/// <summary>The functions and constants of <c>libssl.so.3</c> that only the client calls (see <see cref="Libssl"/> for the rule).</summary>
internal static unsafe partial class Libssl
{
    public const int SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;

    public const long SSL_SESS_CACHE_CLIENT = 0x0001;
    public const long SSL_SESS_CACHE_NO_INTERNAL_STORE = 0x0200;

    [LibraryImport(LibraryName)]
    public static partial nint TLS_client_method();

    /// <summary>Returns 0 on success, unlike most of OpenSSL.</summary>
    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_alpn_protos(SafeSslContextHandle ctx, byte* protocols, uint length);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_sess_set_new_cb(SafeSslContextHandle ctx, delegate* unmanaged[Cdecl]<nint, nint, int> callback);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_set_cert_verify_callback(SafeSslContextHandle ctx, delegate* unmanaged[Cdecl]<nint, nint, int> callback, nint arg);

    [LibraryImport(LibraryName)]
    public static partial void SSL_set_connect_state(SafeSslHandle ssl);

    [LibraryImport(LibraryName)]
    public static partial int SSL_set_session(SafeSslHandle ssl, SafeSslSessionHandle session);

    [LibraryImport(LibraryName)]
    public static partial void SSL_SESSION_free(nint session);

    [LibraryImport(LibraryName)]
    public static partial uint SSL_SESSION_get_max_early_data(SafeSslSessionHandle session);

    [LibraryImport(LibraryName)]
    public static partial int SSL_SESSION_is_resumable(nint session);

    [LibraryImport(LibraryName)]
    public static partial int SSL_get_ex_data_X509_STORE_CTX_idx();
}
