namespace KestrelTfo.Platform;

/// <summary>
/// The commands that give <c>net.ipv4.tcp_fastopen</c> a value, for each place an app runs: the setting is per
/// network namespace, so a container needs it set for the container, not on its host.
/// </summary>
internal sealed class FastOpenSysctlFix
{
    private FastOpenSysctlFix(int value)
    {
        var name = LinuxFastOpenSysctl.Name;
        Value = value;
        Host = $"sysctl -w {name}={value}";
        HostEveryBoot = $"add `{name} = {value}` to /etc/sysctl.d/60-tcp-fastopen.conf";
        Docker = $"docker run --sysctl {name}={value} ...";
        Kubernetes = $"pod spec securityContext.sysctls: [{{name: {name}, value: \"{value}\"}}] " +
                     $"(the kubelet must allow it: --allowed-unsafe-sysctls={name})";
    }

    /// <summary>The value to set.</summary>
    public int Value { get; }

    /// <summary>A command that sets it on a host until the next reboot.</summary>
    public string Host { get; }

    /// <summary>What sets it on a host at every boot.</summary>
    public string HostEveryBoot { get; }

    /// <summary>How a Docker container gets it.</summary>
    public string Docker { get; }

    /// <summary>How a Kubernetes pod gets it.</summary>
    public string Kubernetes { get; }

    /// <summary>All of them in one sentence, as logs and exceptions carry it.</summary>
    public string Text =>
        $"run `{Host}` (until reboot), or {HostEveryBoot} (every boot); in Docker: `{Docker}`; in Kubernetes: {Kubernetes}";

    /// <summary>
    /// The commands that set <paramref name="value"/>, less the bits that send (0x4) or take (0x200) data in SYNs without
    /// a cookie: a fix never prescribes a setting that lets anyone put a request in a SYN from a forged address.
    /// </summary>
    public static FastOpenSysctlFix For(int value) =>
        new(value & ~(LinuxFastOpenSysctl.ClientWithoutCookieBit | LinuxFastOpenSysctl.ServerWithoutCookieBit));
}
