namespace KestrelTfo.TlsBenchmark;

/// <summary>This process's resident memory and open file descriptors, from /proc: what a soak must find flat.</summary>
internal readonly record struct NativeFootprint(long ResidentKilobytes, int FileDescriptors, long ManagedBytes)
{
    public static NativeFootprint Take()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var resident = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(resident.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        return new NativeFootprint(kilobytes, Directory.GetFiles("/proc/self/fd").Length, GC.GetTotalMemory(forceFullCollection: false));
    }
}
