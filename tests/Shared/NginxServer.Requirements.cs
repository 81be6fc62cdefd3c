namespace KestrelTfo.Testing;

/// <content>Where a test may start nginx.</content>
internal sealed partial class NginxServer
{
    /// <summary>
    /// Only in the private network namespace eng/test.sh makes as root (nginx listens with TCP Fast Open, whose server
    /// bit is set there), and only where nginx is installed; elsewhere the test skips, or fails under CI.
    /// </summary>
    static partial void RequireEnvironment()
    {
        FastOpenEnvironment.RequirePrivateNetworkNamespace();
        FastOpenEnvironment.SkipUnless(UnavailableReason is null, UnavailableReason ?? "");
    }
}
