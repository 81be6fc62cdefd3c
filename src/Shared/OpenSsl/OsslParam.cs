using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>
/// OpenSSL 3's <c>OSSL_PARAM</c> (core.h), one name-value pair of a parameter list that ends with an empty one. Made only
/// by the <c>OSSL_PARAM_construct_*</c> functions, so that the type codes stay OpenSSL's.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct OsslParam
{
    public readonly nint Key;
    public readonly uint DataType;
    public readonly nint Data;
    public readonly nuint DataSize;
    public readonly nuint ReturnSize;
}
