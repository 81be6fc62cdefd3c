using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>Owns a reference to a BIO (memory BIOs carry a connection's TLS records); freed once, when disposed or finalized.</summary>
internal sealed class SafeBioHandle : SafeHandle
{
    private static long s_released;

    /// <summary>Made by the P/Invoke marshaller, which sets the pointer.</summary>
    public SafeBioHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <summary>How many of these this process has freed: tests check that a connection's are.</summary>
    public static long Released => Interlocked.Read(ref s_released);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _ = Libcrypto.BIO_free(handle);
        Interlocked.Increment(ref s_released);
        return true;
    }
}
