using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>The functions of <c>libcrypto.so.3</c> that a ticket key callback calls to key the ticket's cipher and MAC.</summary>
internal static unsafe partial class Libcrypto
{
    public const int CRYPTO_EX_INDEX_SSL_CTX = 1;

    /// <summary>The room OpenSSL gives a ticket key callback for the IV (an AES block).</summary>
    public const int EVP_MAX_IV_LENGTH = 16;

    /// <summary>A static cipher description, owned by OpenSSL (never freed).</summary>
    [LibraryImport(LibraryName)]
    public static partial nint EVP_aes_256_cbc();

    [LibraryImport(LibraryName)]
    public static partial int EVP_EncryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);

    [LibraryImport(LibraryName)]
    public static partial int EVP_DecryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);

    [LibraryImport(LibraryName)]
    public static partial int EVP_MAC_CTX_set_params(nint ctx, OsslParam* parameters);

    [LibraryImport(LibraryName)]
    public static partial OsslParam OSSL_PARAM_construct_octet_string(byte* key, byte* buffer, nuint length);

    [LibraryImport(LibraryName)]
    public static partial OsslParam OSSL_PARAM_construct_utf8_string(byte* key, byte* buffer, nuint length);

    [LibraryImport(LibraryName)]
    public static partial OsslParam OSSL_PARAM_construct_end();

    [LibraryImport(LibraryName)]
    public static partial int RAND_bytes(byte* buffer, int length);

    /// <summary>Marks the error queue, so that a callback can take back exactly the errors it caused.</summary>
    [LibraryImport(LibraryName)]
    public static partial int ERR_set_mark();

    [LibraryImport(LibraryName)]
    public static partial int ERR_pop_to_mark();

    [LibraryImport(LibraryName)]
    public static partial int ERR_clear_last_mark();
}
