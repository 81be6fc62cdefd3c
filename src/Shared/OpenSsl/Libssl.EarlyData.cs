using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>TLS 1.3 early data (0-RTT) on the server: reading it, answering before the handshake completes, deciding about it.</summary>
internal static unsafe partial class Libssl
{
    public const ulong SSL_OP_NO_ANTI_REPLAY = 1UL << 24;

    public const int SSL_READ_EARLY_DATA_ERROR = 0;
    public const int SSL_READ_EARLY_DATA_SUCCESS = 1;
    public const int SSL_READ_EARLY_DATA_FINISH = 2;

    public const int SSL_EARLY_DATA_NOT_SENT = 0;
    public const int SSL_EARLY_DATA_REJECTED = 1;
    public const int SSL_EARLY_DATA_ACCEPTED = 2;

    public const int SSL_CLIENT_HELLO_SUCCESS = 1;

    /// <summary>The ClientHello's pre_shared_key extension (RFC 8446, section 4.2.11): ticket identities, ages and binders.</summary>
    public const int TLSEXT_TYPE_psk = 41;

    /// <summary>The ClientHello's early_data extension (RFC 8446, section 4.2.10): the client is sending early data.</summary>
    public const int TLSEXT_TYPE_early_data = 42;

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_max_early_data(SafeSslContextHandle ctx, uint maxEarlyData);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_recv_max_early_data(SafeSslContextHandle ctx, uint recvMaxEarlyData);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_set_allow_early_data_cb(SafeSslContextHandle ctx, delegate* unmanaged[Cdecl]<nint, nint, int> callback, nint arg);

    [LibraryImport(LibraryName)]
    public static partial void SSL_CTX_set_client_hello_cb(SafeSslContextHandle ctx, delegate* unmanaged[Cdecl]<nint, int*, nint, int> callback, nint arg);

    [LibraryImport(LibraryName)]
    public static partial int SSL_client_hello_get0_ext(nint ssl, uint type, byte** data, nuint* length);

    [LibraryImport(LibraryName)]
    public static partial int SSL_read_early_data(SafeSslHandle ssl, byte* buffer, nuint length, nuint* read);

    [LibraryImport(LibraryName)]
    public static partial int SSL_write_early_data(SafeSslHandle ssl, byte* buffer, nuint length, nuint* written);

    [LibraryImport(LibraryName)]
    public static partial int SSL_get_early_data_status(SafeSslHandle ssl);
}
