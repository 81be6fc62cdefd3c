using System.Runtime.InteropServices;

namespace KestrelTfo.Platform;

/// <summary>
/// Whether the operating system accepts TCP Fast Open on listeners, and if not, how to fix that.
/// </summary>
internal sealed class KernelSupport
{
    private KernelSupport(bool serverEnabled, bool platformSupported, string setting, string? problem, string? fix, int? linuxValue = null)
    {
        LinuxValue = linuxValue;
        ServerEnabled = serverEnabled;
        PlatformSupported = platformSupported;
        Setting = setting;
        Problem = problem;
        Fix = fix;
    }

    /// <summary>The kernel accepts data in a SYN on listeners that ask for it.</summary>
    public bool ServerEnabled { get; }

    /// <summary>The transport knows how to ask for TCP Fast Open on this OS at all.</summary>
    public bool PlatformSupported { get; }

    /// <summary>The setting that was read, as a person would write it, for example <c>net.ipv4.tcp_fastopen = 1</c>.</summary>
    public string Setting { get; }

    /// <summary>What is wrong, when <see cref="ServerEnabled"/> is false.</summary>
    public string? Problem { get; }

    /// <summary>The exact commands that fix it, when there are any.</summary>
    public string? Fix { get; }

    /// <summary>What is wrong and how to fix it, as one sentence or two for an error or a health report.</summary>
    public string ProblemAndFix => Explain(Problem);

    /// <summary><paramref name="problem"/>, followed by this OS's fix when there is one.</summary>
    public string Explain(string? problem) => Fix is null ? $"{problem}." : $"{problem}. To enable it: {Fix}.";

    /// <summary>The value of <c>net.ipv4.tcp_fastopen</c>, when it could be read.</summary>
    public int? LinuxValue { get; }

    /// <summary>
    /// The kernel accepts data in a SYN without a cookie (bit 0x200 of <c>net.ipv4.tcp_fastopen</c>): anyone can then
    /// put a request in a SYN from a forged address, and the guard cannot tell it from the client it names.
    /// </summary>
    public bool ServerAcceptsDataWithoutCookie =>
        ServerEnabled && LinuxValue is int value && (value & LinuxFastOpenSysctl.ServerWithoutCookieBit) != 0;

    public static KernelSupport LinuxEnabled(int value) =>
        new(true, true, $"{LinuxFastOpenSysctl.Name} = {value}", null, null, value);

    /// <summary>
    /// Where the OS offers no way to read the setting without native code, the listener's own attempt
    /// to enable TCP Fast Open decides; <see cref="Fix"/> is what to do if that attempt fails.
    /// </summary>
    public static KernelSupport Assumed(string setting, string fix) => new(true, true, setting, null, fix);

    public static KernelSupport LinuxServerBitOff(int value)
    {
        var name = LinuxFastOpenSysctl.Name;
        return new(
            serverEnabled: false,
            platformSupported: true,
            setting: $"{name} = {value}",
            problem: $"{name} is {value}, which lacks the server bit 0x2",
            fix: FastOpenSysctlFix.For(value | LinuxFastOpenSysctl.ServerBit).Text,
            linuxValue: value);
    }

    public static KernelSupport LinuxUnreadable(string error) => new(
        serverEnabled: false,
        platformSupported: true,
        setting: $"{LinuxFastOpenSysctl.Name} = (unreadable)",
        problem: $"{LinuxFastOpenSysctl.Path} cannot be read ({error}), so this kernel may not support TCP Fast Open",
        fix: $"use a Linux kernel with TCP Fast Open (3.7 or later) and /proc mounted, then set {LinuxFastOpenSysctl.Name} to 3");

    public static KernelSupport Unsupported() => new(
        serverEnabled: false,
        platformSupported: false,
        setting: "(none)",
        problem: $"the transport does not support TCP Fast Open on {RuntimeInformation.OSDescription}",
        fix: null);

    /// <summary>Detects support on this OS. It only reads; changing the setting is the caller's decision.</summary>
    public static KernelSupport Detect() => Detect(LinuxFastOpenSysctl.Path);

    /// <param name="sysctlPath">The sysctl's file; another only in tests.</param>
    internal static KernelSupport Detect(string sysctlPath)
    {
        if (OperatingSystem.IsLinux())
        {
            if (!LinuxFastOpenSysctl.TryRead(sysctlPath, out var value, out var error))
            {
                return LinuxUnreadable(error!);
            }

            return (value & LinuxFastOpenSysctl.ServerBit) != 0
                ? LinuxEnabled(value)
                : LinuxServerBitOff(value);
        }

        if (OperatingSystem.IsMacOS())
        {
            return Assumed("net.inet.tcp.fastopen", "run `sudo sysctl -w net.inet.tcp.fastopen=3`");
        }

        if (OperatingSystem.IsFreeBSD())
        {
            return Assumed(
                "net.inet.tcp.fastopen.server_enable",
                "run `sysctl net.inet.tcp.fastopen.server_enable=1` (and add it to /etc/sysctl.conf)");
        }

        if (OperatingSystem.IsWindows())
        {
            return Assumed(
                "TCP global fastopen",
                "use Windows 10 1607 or later and run `netsh int tcp set global fastopen=enabled` as administrator");
        }

        return Unsupported();
    }
}
