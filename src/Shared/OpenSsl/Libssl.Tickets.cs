using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>The functions of <c>libssl.so.3</c> that install session-ticket keys of the app's own on an SSL_CTX.</summary>
internal static unsafe partial class Libssl
{
    /// <summary>The length of a ticket's key name, which leads every ticket in clear (TLSEXT_KEYNAME_LENGTH).</summary>
    public const int TLSEXT_KEYNAME_LENGTH = 16;

    /// <summary>
    /// OpenSSL 3's ticket key callback: <c>(SSL*, key_name[16], iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX*, EVP_MAC_CTX*,
    /// enc)</c>. It has no argument of its own, so the callback finds its keys through the SSL_CTX's ex_data.
    /// </summary>
    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_tlsext_ticket_key_evp_cb(
        SafeSslContextHandle ctx,
        delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint, nint, int, int> callback);

    [LibraryImport(LibraryName)]
    public static partial int SSL_CTX_set_ex_data(SafeSslContextHandle ctx, int index, nint data);

    [LibraryImport(LibraryName)]
    public static partial nint SSL_CTX_get_ex_data(nint ctx, int index);

    /// <summary>The SSL's SSL_CTX; owned by the SSL (no reference taken).</summary>
    [LibraryImport(LibraryName)]
    public static partial nint SSL_get_SSL_CTX(nint ssl);
}
