using System.Runtime.InteropServices;

namespace KestrelTfo.TlsBenchmark;

/// <summary>
/// This process's resident memory, the native heap in use (glibc's <c>mallinfo2</c>: what OpenSSL allocates, without
/// what the allocator keeps free), open file descriptors and the managed heap: what a soak must find flat.
/// </summary>
internal readonly partial record struct NativeFootprint(long ResidentKilobytes, long NativeHeapKilobytes, int FileDescriptors, long ManagedBytes)
{
    public static NativeFootprint Take()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var resident = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = long.Parse(resident.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        var heap = mallinfo2();
        return new NativeFootprint(
            kilobytes, (long)(heap.uordblks + heap.hblkhd) / 1024, Directory.GetFiles("/proc/self/fd").Length, GC.GetTotalMemory(forceFullCollection: false));
    }

    [LibraryImport("libc.so.6")]
    private static partial MallInfo2 mallinfo2();

    // struct mallinfo2 (malloc.h): ten size_t fields, in this order.
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct MallInfo2
    {
        public readonly nuint arena;
        public readonly nuint ordblks;
        public readonly nuint smblks;
        public readonly nuint hblks;
        public readonly nuint hblkhd;
        public readonly nuint usmblks;
        public readonly nuint fsmblks;
        public readonly nuint uordblks;
        public readonly nuint fordblks;
        public readonly nuint keepcost;
    }
}
