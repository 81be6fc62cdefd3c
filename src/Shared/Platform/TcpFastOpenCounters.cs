using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace KestrelTfo.Platform;

/// <summary>
/// One reading of the kernel's TCP Fast Open counters, cumulative since boot for one network namespace. A counter the
/// kernel does not have (older kernels have fewer) reads as 0 and is not <see cref="IsPresent"/>. A value type that
/// holds its counts inline, so a reading allocates nothing.
/// </summary>
internal struct TcpFastOpenCounters
{
    /// <summary>Every counter, in the order of <see cref="TcpFastOpenCounter"/>.</summary>
    public static readonly TcpFastOpenCounter[] All = Enum.GetValues<TcpFastOpenCounter>();

    private static readonly string[] s_kernelNames = [.. All.Select(counter => "TCPFastOpen" + counter)];

    private Values _values;
    private int _present;

    static TcpFastOpenCounters() =>
        Debug.Assert(All.Length == Values.Length, "One inline slot per counter.");

    public readonly long this[TcpFastOpenCounter counter] => _values[(int)counter];

    public readonly bool IsPresent(TcpFastOpenCounter counter) => (_present & (1 << (int)counter)) != 0;

    /// <summary>The counter's name in <c>/proc/net/netstat</c>, such as <c>TCPFastOpenPassive</c>.</summary>
    public static string KernelName(TcpFastOpenCounter counter) => s_kernelNames[(int)counter];

    internal void Set(int counter, long value, bool present)
    {
        _values[counter] = value;
        _present = present ? _present | (1 << counter) : _present & ~(1 << counter);
    }

    [InlineArray(Length)]
    private struct Values
    {
        public const int Length = 8;

        private long _first;
    }
}
