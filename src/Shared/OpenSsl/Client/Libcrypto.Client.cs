using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>The functions of <c>libcrypto.so.3</c> that only the client calls: the server's chain, during verification.</summary>
internal static partial class Libcrypto
{
    [LibraryImport(LibraryName)]
    public static partial nint X509_STORE_CTX_get_ex_data(nint storeContext, int index);

    /// <summary>The leaf being verified; owned by the store context (no reference taken).</summary>
    [LibraryImport(LibraryName)]
    public static partial nint X509_STORE_CTX_get0_cert(nint storeContext);

    /// <summary>The certificates the server sent, leaf first; owned by the store context.</summary>
    [LibraryImport(LibraryName)]
    public static partial nint X509_STORE_CTX_get0_untrusted(nint storeContext);
}
