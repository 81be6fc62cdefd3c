using KestrelTfo.Fleet.Internal;
using KestrelTfo.NetEmu.Internal;

namespace KestrelTfo.Fleet;

/// <summary>
/// One of the fleet's named network namespaces (<c>/run/netns/NAME</c>): commands run in it with <c>ip netns exec</c>,
/// and in-process work (creating a socket, opening a <c>/proc/net</c> file) runs on a thread that lives in it.
/// </summary>
public sealed class FleetNamespace
{
    private readonly NamespaceThread _thread;

    private FleetNamespace(string name, NamespaceThread thread)
    {
        Name = name;
        _thread = thread;
    }

    /// <summary>The namespace's name, as <c>ip netns</c> shows it.</summary>
    public string Name { get; }

    /// <summary>
    /// This namespace's <c>/proc/net</c> directory while the fleet lives: a file opened there, such as <c>netstat</c>, shows
    /// this namespace's counters to whichever thread reads it.
    /// </summary>
    public string ProcNetDirectory => _thread.ProcNetDirectory;

    /// <summary>Runs <paramref name="work"/> on a thread inside the namespace; a socket it creates stays in the namespace.</summary>
    /// <typeparam name="T">What the work returns.</typeparam>
    /// <param name="work">The work.</param>
    /// <returns>What the work returned.</returns>
    public T Run<T>(Func<T> work) => _thread.Run(work);

    /// <summary>Runs a command inside the namespace (<c>ip netns exec</c>) to its end, bounded in time.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="timeout">How long it may run before it is killed and a <see cref="TimeoutException"/> thrown.</param>
    /// <param name="cancellationToken">Cancels the wait, and kills the command.</param>
    /// <returns>How it ended.</returns>
    public Task<FleetCommandResult> ExecAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        FleetCommand.RunAsync("ip", ["netns", "exec", Name, fileName, .. arguments], timeout, cancellationToken);

    internal static async Task<FleetNamespace> CreateAsync(string name, CancellationToken cancellationToken)
    {
        await FleetCommand.RunCheckedAsync("ip", ["netns", "add", name], cancellationToken).ConfigureAwait(false);
        try
        {
            return new FleetNamespace(name, NamespaceThread.EnterNamespace($"fleet {name}", $"/run/netns/{name}"));
        }
        catch
        {
            await FleetCommand.RunCheckedAsync("ip", ["netns", "delete", name], CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sets a sysctl of this namespace (<c>net.ipv4.ip_forward</c>), as <c>sysctl -w</c> would inside it.</summary>
    internal void SetSysctl(string name, string value) =>
        Run(() =>
        {
            File.WriteAllText($"/proc/sys/{name.Replace('.', '/')}", value);
            return true;
        });

    /// <summary>Runs <c>ip</c> commands, one a line, inside the namespace.</summary>
    internal Task ConfigureAsync(IEnumerable<string> commands, CancellationToken cancellationToken) =>
        FleetCommand.RunCheckedAsync("ip", ["-n", Name, "-batch", "-"], cancellationToken, string.Join('\n', commands) + "\n");

    /// <summary>Loads an nftables script inside the namespace.</summary>
    internal Task LoadNftablesAsync(string script, CancellationToken cancellationToken) =>
        FleetCommand.RunCheckedAsync("ip", ["netns", "exec", Name, "nft", "-f", "-"], cancellationToken, script);

    /// <summary>
    /// Leaves the namespace and deletes its name; the kernel frees it, with its devices and nftables tables, once no
    /// process is left in it.
    /// </summary>
    internal async Task DeleteAsync()
    {
        _thread.Dispose();
        await FleetCommand.RunCheckedAsync("ip", ["netns", "delete", Name], CancellationToken.None).ConfigureAwait(false);
    }
}
