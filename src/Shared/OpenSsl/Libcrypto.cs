using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>The functions of OpenSSL 3's <c>libcrypto.so.3</c> this repository calls (see <see cref="Libssl"/> for the rule).</summary>
internal static unsafe partial class Libcrypto
{
    public const string LibraryName = "libcrypto.so.3";

    public const int CRYPTO_EX_INDEX_SSL = 0;

    [LibraryImport(LibraryName)]
    public static partial ulong OpenSSL_version_num();

    [LibraryImport(LibraryName)]
    public static partial void ERR_clear_error();

    [LibraryImport(LibraryName)]
    public static partial ulong ERR_get_error();

    [LibraryImport(LibraryName)]
    public static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);

    [LibraryImport(LibraryName)]
    public static partial nint BIO_s_mem();

    [LibraryImport(LibraryName)]
    public static partial SafeBioHandle BIO_new(nint method);

    [LibraryImport(LibraryName)]
    public static partial int BIO_up_ref(SafeBioHandle bio);

    [LibraryImport(LibraryName)]
    public static partial int BIO_free(nint bio);

    [LibraryImport(LibraryName)]
    public static partial int BIO_write(SafeBioHandle bio, byte* data, int length);

    [LibraryImport(LibraryName)]
    public static partial int BIO_read(SafeBioHandle bio, byte* data, int length);

    [LibraryImport(LibraryName)]
    public static partial nuint BIO_ctrl_pending(SafeBioHandle bio);

    [LibraryImport(LibraryName)]
    public static partial void X509_free(nint x509);

    [LibraryImport(LibraryName)]
    public static partial int i2d_X509(nint x509, byte** output);

    [LibraryImport(LibraryName)]
    public static partial int OPENSSL_sk_num(nint stack);

    [LibraryImport(LibraryName)]
    public static partial nint OPENSSL_sk_value(nint stack, int index);

    [LibraryImport(LibraryName)]
    public static partial int CRYPTO_get_ex_new_index(int classIndex, long argl, nint argp, nint newFunc, nint dupFunc, nint freeFunc);
}
