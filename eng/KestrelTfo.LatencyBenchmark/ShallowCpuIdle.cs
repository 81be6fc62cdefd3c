using Microsoft.Win32.SafeHandles;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Keeps idle CPUs in their shallowest idle state for as long as it is held, through the kernel's PM QoS interface
/// (<c>/dev/cpu_dma_latency</c>, as <c>cyclictest</c> and tuned's latency profiles use it).
/// </summary>
/// <remarks>
/// The benchmark sends one connection at a time, so between packets every CPU is idle for milliseconds. A virtual
/// CPU that halts then costs the host a wake-up on each packet, which shows up as time the transport did not spend;
/// a loaded server never idles that long. The request ends when the file is closed, which the kernel also does when
/// the process dies, so nothing outlives the run.
/// </remarks>
internal static class ShallowCpuIdle
{
    private const string Path = "/dev/cpu_dma_latency";

    /// <summary>
    /// Asks for a wake-up latency of 0 µs until the result is disposed; null, with the reason, when the kernel does
    /// not offer it.
    /// </summary>
    public static IDisposable? TryHold(out string? reason)
    {
        SafeFileHandle? device = null;
        try
        {
            device = File.OpenHandle(Path, FileMode.Open, FileAccess.Write);
            RandomAccess.Write(device, BitConverter.GetBytes(0), fileOffset: 0);
            reason = null;
            return device;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            device?.Dispose();
            reason = $"{Path}: {exception.Message}";
            return null;
        }
    }
}
