using System.Collections.Concurrent;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// A dedicated thread that lives in another network namespace and runs work there synchronously. Sockets and
/// TUN devices belong to the namespace of the thread that creates them and keep it after creation, so running
/// just their creation here is enough: the caller can then use them from any thread.
/// </summary>
/// <remarks>
/// A network namespace is a property of a thread on Linux, so <c>unshare(CLONE_NEWNET)</c> or <c>setns</c> on this
/// thread moves nothing else of the process. An anonymous namespace made here dies with the last thing holding it
/// (this thread, a socket, a device), at the latest with the process, so a crashed caller leaves nothing behind.
/// </remarks>
internal sealed class NamespaceThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;
    private int _threadId;

    private NamespaceThread(string name, string? namespacePath)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Main(namespacePath, started)) { IsBackground = true, Name = name };
        _thread.Start();
        try
        {
            started.Task.GetAwaiter().GetResult();
        }
        catch
        {
            _thread.Join();
            _work.Dispose();
            throw;
        }
    }

    /// <summary>The namespace as a path other processes can enter (<c>nsenter --net=PATH</c>) while this thread lives.</summary>
    public string NamespacePath => $"/proc/{Environment.ProcessId}/task/{_threadId}/ns/net";

    /// <summary>
    /// The namespace's <c>/proc/net</c> while this thread lives: files opened there (<c>netstat</c>, <c>tcp</c>) belong to
    /// this namespace, whichever thread opens them.
    /// </summary>
    public string ProcNetDirectory => $"/proc/{Environment.ProcessId}/task/{_threadId}/net";

    /// <summary>Starts a thread in a new, anonymous network namespace.</summary>
    public static NamespaceThread CreateNamespace(string name) => new(name, namespacePath: null);

    /// <summary>Starts a thread in an existing namespace, such as <c>/run/netns/NAME</c>.</summary>
    public static NamespaceThread EnterNamespace(string name, string namespacePath) => new(name, namespacePath);

    public T Run<T>(Func<T> work)
    {
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId)
        {
            return work();
        }

        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                result.SetResult(work());
            }
            catch (Exception exception)
            {
                result.SetException(exception);
            }
        });
        return result.Task.GetAwaiter().GetResult();
    }

    public void Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    private void Main(string? namespacePath, TaskCompletionSource started)
    {
        try
        {
            EnterOrCreate(namespacePath);
            _threadId = NativeMethods.GetTid();
        }
        catch (Exception exception)
        {
            started.SetException(exception);
            return;
        }

        started.SetResult();
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    private static void EnterOrCreate(string? namespacePath)
    {
        if (namespacePath is null)
        {
            if (NativeMethods.Unshare(NativeMethods.CloneNewNet) != 0)
            {
                throw new Win32Exception(Marshal.GetLastPInvokeError(), "unshare(CLONE_NEWNET) failed");
            }

            return;
        }

        var fd = NativeMethods.Open(namespacePath, NativeMethods.OCloExec);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"cannot open {namespacePath}");
        }

        try
        {
            if (NativeMethods.SetNs(fd, NativeMethods.CloneNewNet) != 0)
            {
                throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns({namespacePath}) failed");
            }
        }
        finally
        {
            NativeMethods.Close(fd);
        }
    }
}
