using System.Globalization;
using System.Runtime.InteropServices;
using KestrelTfo.Platform;

namespace KestrelTfo.Doctor;

/// <summary>
/// The doctor: reads the kernel's TCP Fast Open settings, proves them with a live self-test (or checks a running
/// server with <c>--check</c>), and prints the verdict, the fix, and an exit code scripts can act on.
/// </summary>
internal static class FastOpenDoctor
{
    public const string BlackholeSysctlName = "net.ipv4.tcp_fastopen_blackhole_timeout_sec";
    public const string BlackholeSysctlPath = "/proc/sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec";

    public static Task<DoctorReport> DiagnoseAsync(DoctorOptions options, CancellationToken cancellationToken) =>
        DiagnoseAsync(options, OperatingSystem.IsLinux(), cancellationToken);

    /// <param name="options">What to diagnose.</param>
    /// <param name="isLinux">Whether this is Linux, where a connection tells whether its SYN carried data; tests say no.</param>
    /// <param name="cancellationToken">Ends the diagnosis.</param>
    internal static async Task<DoctorReport> DiagnoseAsync(DoctorOptions options, bool isLinux, CancellationToken cancellationToken)
    {
        var report = new DoctorReport(options.Check is null
            ? "kestreltfo-doctor: can this machine serve TCP Fast Open?"
            : $"kestreltfo-doctor: does {options.Check} accept TCP Fast Open?");

        if (CheckPlatform(report, isLinux))
        {
            using var netstat = new LinuxNetstat();

            // A client only needs the client bit; the self-test needs both, since it is its own client.
            var needed = options.Check is null ? LinuxFastOpenSysctl.ClientBit | LinuxFastOpenSysctl.ServerBit : LinuxFastOpenSysctl.ClientBit;
            var sysctl = CheckSysctl(report, needed);

            // Bit 0x4: this machine's SYNs carry data without asking for a cookie, which changes what the checks see.
            var sendsDataWithoutCookie = (sysctl & LinuxFastOpenSysctl.ClientWithoutCookieBit) != 0;
            CheckBlackhole(report, netstat);
            if (options.Check is null)
            {
                await LoopbackSelfTest.RunAsync(report, netstat, options.SelfTestAddress, sendsDataWithoutCookie, options.Timeout, cancellationToken);
            }
            else
            {
                await ServerCheck.RunAsync(report, options.Check, options.Connections, netstat, sendsDataWithoutCookie, options.Timeout, cancellationToken);
            }
        }

        report.Summary = (report.Ok, options.Check) switch
        {
            (true, null) => "TCP Fast Open works end to end: the kernel took the second connection's data in its SYN.",
            (true, { } target) => report.Fleet is { Connections: > 1 } fleet
                ? $"TCP Fast Open works end to end: {target} took the data in the SYN of all {fleet.Connections} connections after the cookie connection."
                : $"TCP Fast Open works end to end: {target} took the second connection's {(target.Tls ? "ClientHello" : "request")} in its SYN.",
            (false, null) => $"TCP Fast Open does not work here (exit code {(int)report.ExitCode}).",
            (false, { } target) => $"TCP Fast Open to {target} does not work (exit code {(int)report.ExitCode}).",
        };
        return report;
    }

    private static bool CheckPlatform(DoctorReport report, bool isLinux)
    {
        if (!isLinux)
        {
            var support = KernelSupport.Detect();
            report.Add(new DoctorCheck("platform", false, RuntimeInformation.OSDescription,
                "the doctor observes TCP Fast Open on Linux only; elsewhere the kernel does not say whether a SYN carried data"));
            report.Fail(DoctorExitCode.UnsupportedPlatform, new DoctorFix(
                support.Fix is null ? "run the app on Linux for TCP Fast Open" : $"the transport tries TCP Fast Open here anyway; to allow it: {support.Fix}", []));
            return false;
        }

        var release = TryReadLine("/proc/sys/kernel/osrelease") ?? RuntimeInformation.OSDescription;
        report.Add(new DoctorCheck("platform", true, $"Linux {release}", "Linux reports per connection whether the SYN carried data"));
        return true;
    }

    /// <summary>Reads and judges the setting; returns it, or null when it cannot be read.</summary>
    private static int? CheckSysctl(DoctorReport report, int needed)
    {
        var name = LinuxFastOpenSysctl.Name;
        if (!LinuxFastOpenSysctl.TryRead(out var value, out var readError))
        {
            var unreadable = KernelSupport.LinuxUnreadable(readError!);
            report.Add(new DoctorCheck(name, false, "unreadable", unreadable.Problem!));
            report.Fail(DoctorExitCode.KernelSetting, new DoctorFix(unreadable.Fix!, []));
            return null;
        }

        var client = (value & LinuxFastOpenSysctl.ClientBit) != 0;
        var server = (value & LinuxFastOpenSysctl.ServerBit) != 0;
        var bits = $"client bit 0x1 {(client ? "on" : "off")}, server bit 0x2 {(server ? "on" : "off")}";
        var shown = value.ToString(CultureInfo.InvariantCulture);
        var problems = new List<string>();
        if (!server && (needed & LinuxFastOpenSysctl.ServerBit) != 0)
        {
            problems.Add("without the server bit the kernel ignores data in SYNs sent to this machine's listeners");
        }

        if (!client)
        {
            problems.Add("without the client bit this machine sends no TCP Fast Open SYNs, so the doctor cannot test it either");
        }

        if ((value & LinuxFastOpenSysctl.ServerWithoutCookieBit) != 0 && (needed & LinuxFastOpenSysctl.ServerBit) != 0)
        {
            problems.Add("bit 0x200 makes the kernel take data in SYNs that carry no cookie, so anyone can put a request in a SYN from a forged address");
        }

        if ((value & LinuxFastOpenSysctl.ClientWithoutCookieBit) != 0)
        {
            problems.Add("bit 0x4 makes this machine send data in SYNs without asking for a cookie, which a server takes only with bit 0x200");
        }

        if (problems.Count == 0)
        {
            report.Add(new DoctorCheck(name, true, shown, bits));
            return value;
        }

        report.Add(new DoctorCheck(name, false, shown, $"{bits}: {string.Join("; ", problems)}"));
        var fix = FastOpenSysctlFix.For(value | needed);
        report.Fail(DoctorExitCode.KernelSetting, new DoctorFix(
            $"set {name} to {fix.Value}: {fix.Text}",
            [
                new("host, now", fix.Host),
                new("host, every boot", fix.HostEveryBoot),
                new("Docker", fix.Docker),
                new("Kubernetes", fix.Kubernetes),
            ]));

        return value;
    }

    /// <summary>Informational: blackhole detection pauses this machine's outgoing TFO, never its listeners.</summary>
    private static void CheckBlackhole(DoctorReport report, LinuxNetstat netstat)
    {
        var blackholes = netstat.TryRead(out var counters) && counters.IsPresent(TcpFastOpenCounter.Blackhole)
            ? $" TCPFastOpenBlackhole is {counters[TcpFastOpenCounter.Blackhole]}."
            : "";
        var text = TryReadLine(BlackholeSysctlPath);
        if (text is null)
        {
            report.Add(new DoctorCheck(BlackholeSysctlName, true, "absent", $"this kernel has no blackhole detection (before 4.10).{blackholes}"));
            return;
        }

        var detail = text == "0"
            ? "blackhole detection is off: outgoing TFO is never paused"
            : $"after a path seems to drop SYNs with data, outgoing TFO pauses for {text} s, doubling on each repeat; listeners are not affected";
        report.Add(new DoctorCheck(BlackholeSysctlName, true, text, detail + "." + blackholes));
    }

    private static string? TryReadLine(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
