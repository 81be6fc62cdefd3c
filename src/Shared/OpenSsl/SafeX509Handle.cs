using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>Owns a reference to an X509 this code took (a peer's certificate); freed once, when disposed or finalized.</summary>
internal sealed class SafeX509Handle : SafeHandle
{
    private static long s_released;

    /// <summary>Made by the P/Invoke marshaller, which sets the pointer.</summary>
    public SafeX509Handle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <summary>How many of these this process has freed: tests check that a connection's are.</summary>
    public static long Released => Interlocked.Read(ref s_released);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Libcrypto.X509_free(handle);
        Interlocked.Increment(ref s_released);
        return true;
    }
}
