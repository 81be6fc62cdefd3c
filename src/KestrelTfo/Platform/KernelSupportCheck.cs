using KestrelTfo.Internal;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Platform;

/// <summary>
/// The transport's one look at the kernel, at its first bind: whether it accepts TCP Fast Open on listeners, switching
/// the server bit on when the app allows it, and saying once what it found and how to fix what is missing.
/// </summary>
internal static class KernelSupportCheck
{
    /// <param name="options">The transport's options.</param>
    /// <param name="logger">The transport's logger.</param>
    /// <param name="sysctlPath">The sysctl's file; another only in tests.</param>
    public static KernelSupport Run(FastOpenTransportOptions options, ILogger logger, string sysctlPath = LinuxFastOpenSysctl.Path)
    {
        var support = KernelSupport.Detect(sysctlPath);

        if (!support.ServerEnabled && support.LinuxValue is int oldValue && options.TryEnableKernelSupport)
        {
            var newValue = oldValue | LinuxFastOpenSysctl.ServerBit;
            if (LinuxFastOpenSysctl.TryWrite(sysctlPath, newValue, out var error))
            {
                support = KernelSupport.Detect(sysctlPath);
                FastOpenLog.KernelSupportEnabled(logger, LinuxFastOpenSysctl.Name, oldValue, newValue);
            }
            else
            {
                FastOpenLog.KernelSupportEnableFailed(logger, LinuxFastOpenSysctl.Name, newValue, error);
            }
        }

        if (!string.IsNullOrWhiteSpace(options.CookieKey) && !FastOpenListenSocket.SupportsCookieKeys)
        {
            FastOpenLog.CookieKeysUnsupported(logger, System.Runtime.InteropServices.RuntimeInformation.OSDescription);
        }

        if (support.ServerEnabled)
        {
            FastOpenLog.KernelSupportFound(logger, support.Setting);
            if (support.ServerAcceptsDataWithoutCookie)
            {
                FastOpenLog.KernelAcceptsDataWithoutCookie(logger, support.Setting);
            }
        }
        else if (!options.RequireFastOpen)
        {
            // With RequireFastOpen the same text becomes the start-up exception instead.
            FastOpenLog.KernelSupportMissing(logger, support.Problem!, support.Fix ?? "not possible on this OS");
        }

        return support;
    }
}
