using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// Named network namespaces (<c>/run/netns/kestreltfo-*</c>) for links people enter with <c>ip netns exec</c>.
/// Unlike anonymous ones they outlive a crashed process, so each start first removes those nobody is in.
/// </summary>
internal static class NamedNamespaces
{
    public const string Prefix = "kestreltfo-";
    private const string Directory = "/run/netns";

    public static string PathOf(string name) => $"{Directory}/{name}";

    public static void Create(string name, ILogger logger)
    {
        if (File.Exists(PathOf(name)))
        {
            // RemoveLeftovers ran just before and kept it, so a live process is in it.
            throw new InvalidOperationException($"network namespace {name} exists and is in use (another link?); choose another name");
        }

        RunIp($"netns add {name}");
        NetEmuLog.NamespaceCreated(logger, name);
    }

    public static void Delete(string name)
    {
        if (File.Exists(PathOf(name)))
        {
            RunIp($"netns delete {name}");
        }
    }

    /// <summary>Deletes every <c>kestreltfo-*</c> namespace that no thread of any process is in.</summary>
    public static int RemoveLeftovers(ILogger logger)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var path in System.IO.Directory.GetFiles(Directory, Prefix + "*"))
        {
            var name = Path.GetFileName(path);
            string identity;
            try
            {
                using var probe = NamespaceThread.EnterNamespace("netemu probe", path);
                identity = probe.Run(() => new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? "");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // A name whose namespace is already gone (a stale mount point): deleting it is the repair.
                identity = "";
            }

            if (identity.Length > 0 && InUse(identity))
            {
                NetEmuLog.NamespaceInUse(logger, name);
                continue;
            }

            RunIp($"netns delete {name}");
            NetEmuLog.LeftoverNamespaceRemoved(logger, name);
            removed++;
        }

        return removed;
    }

    private static bool InUse(string identity)
    {
        foreach (var process in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            // This process's only thread there was the probe, which may linger a moment after it has been joined.
            if (!int.TryParse(Path.GetFileName(process), out var id) || id == Environment.ProcessId)
            {
                continue;
            }

            IEnumerable<string> tasks;
            try
            {
                tasks = System.IO.Directory.GetDirectories(Path.Combine(process, "task"));
            }
            catch (IOException)
            {
                continue; // the process ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var task in tasks)
            {
                try
                {
                    if (new FileInfo(Path.Combine(task, "ns", "net")).LinkTarget == identity)
                    {
                        return true;
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return false;
    }

    private static void RunIp(string arguments)
    {
        var start = new ProcessStartInfo("ip", arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException("named namespaces need iproute2's `ip` (apt-get install iproute2)", exception);
        }

        using (process)
        {
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"`ip {arguments}` failed ({process.ExitCode}): {error.Trim()}");
            }
        }
    }
}
