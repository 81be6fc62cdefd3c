using System.Runtime.InteropServices;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>The few libc calls the link needs; Linux x64/arm64 numbers and layouts.</summary>
internal static unsafe partial class NativeMethods
{
    public const int ORdWr = 0x2;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int CloneNewNet = 0x40000000;
    public const short PollIn = 0x1;
    public const int EAgain = 11;
    public const int EIntr = 4;
    public const int EfdNonBlock = 0x800;
    public const int EfdCloExec = 0x80000;
    public const int ClockMonotonic = 1;
    public const int TimerAbsTime = 1;
    public const int PrSetTimerSlack = 29;

    public const nuint TunSetIff = 0x400454ca;
    public const nuint SiocGIfFlags = 0x8913;
    public const nuint SiocSIfFlags = 0x8914;
    public const nuint SiocSIfAddr = 0x8916;
    public const nuint SiocSIfDstAddr = 0x8918;
    public const nuint SiocSIfNetmask = 0x891c;
    public const nuint SiocSIfMtu = 0x8922;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, byte* argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int namespaceType);

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    /// <summary>Returns an error number itself instead of setting errno.</summary>
    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    public static partial int ClockNanosleep(int clock, int flags, TimeSpec* request, TimeSpec* remaining);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint argument2, nuint argument3, nuint argument4, nuint argument5);

    public const int SchedFifo = 1;

    /// <summary>Takes the thread id (0: the calling thread) and a pointer to <c>struct sched_param</c> (one int).</summary>
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SchedSetScheduler(int threadId, int policy, int* priority);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
