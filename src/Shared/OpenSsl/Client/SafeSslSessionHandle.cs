using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl.Client;

/// <summary>Owns a reference to an SSL_SESSION: a ticket a server gave, to resume with once; freed once, when disposed or finalized.</summary>
internal sealed class SafeSslSessionHandle : SafeHandle
{
    private static long s_released;

    private SafeSslSessionHandle(nint session)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle(session);

    /// <summary>How many of these this process has freed: tests check that sessions are.</summary>
    public static long Released => Interlocked.Read(ref s_released);

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Takes over the reference OpenSSL hands to the new-session callback.</summary>
    public static SafeSslSessionHandle Own(nint session) => new(session);

    protected override bool ReleaseHandle()
    {
        Libssl.SSL_SESSION_free(handle);
        Interlocked.Increment(ref s_released);
        return true;
    }
}
