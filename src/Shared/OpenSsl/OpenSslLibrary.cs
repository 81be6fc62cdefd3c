using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>Whether OpenSSL 3 can be used in this process: both libraries load and report a 3.x version.</summary>
internal static class OpenSslLibrary
{
    private static readonly Lazy<string?> s_unavailableReason = new(Probe);

    /// <summary>Null when OpenSSL 3 is usable; otherwise why not, in words for a log line.</summary>
    public static string? UnavailableReason => s_unavailableReason.Value;

    public static bool IsAvailable => UnavailableReason is null;

    /// <summary>OpenSSL's version number (0xMNN00PP0L), 0 when it cannot be loaded.</summary>
    public static ulong VersionNumber => IsAvailable ? Libcrypto.OpenSSL_version_num() : 0;

    /// <summary>The version as major.minor.patch, for logs.</summary>
    public static string VersionText => $"{VersionNumber >> 28}.{(VersionNumber >> 20) & 0xff}.{(VersionNumber >> 4) & 0xff}";

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return $"this layer binds OpenSSL 3 on Linux only, and this is {RuntimeInformation.OSDescription}";
        }

        foreach (var name in new[] { Libcrypto.LibraryName, Libssl.LibraryName })
        {
            if (!NativeLibrary.TryLoad(name, typeof(OpenSslLibrary).Assembly, DllImportSearchPath.SafeDirectories, out _))
            {
                return $"{name} could not be loaded";
            }
        }

        var version = Libcrypto.OpenSSL_version_num();
        return version >> 28 == 3 ? null : $"{Libcrypto.LibraryName} reports version 0x{version:x}, not 3.x";
    }
}
