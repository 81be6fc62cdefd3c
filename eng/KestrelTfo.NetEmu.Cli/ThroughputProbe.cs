using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.NetEmu.Cli;

/// <summary>
/// Measures what the link adds: UDP datagrams sent from the client side at a fixed rate, each stamped with its send
/// time, and received on the server side, where the one-way time minus the configured delay is the added delay
/// (the forwarder plus both kernels' UDP paths).
/// </summary>
internal static class ThroughputProbe
{
    private const int Port = 9;
    private const int PayloadSize = 64;

    public static int Run(EmulatedLink link, TimeSpan configuredDelay, int packetsPerSecond, TimeSpan duration)
    {
        var total = (int)(packetsPerSecond * duration.TotalSeconds);
        var latencies = new long[total];
        var received = 0;

        using var receiver = link.CreateServerSocket(SocketType.Dgram, ProtocolType.Udp);
        receiver.ReceiveBufferSize = 4 << 20;
        receiver.Bind(new IPEndPoint(link.ServerAddress, Port));
        receiver.ReceiveTimeout = (int)configuredDelay.TotalMilliseconds + 2000;
        var receiving = new Thread(() =>
        {
            // Like the forwarder's threads, so what is measured is the link, not this thread's wake-up on a busy machine.
            RealTime();
            var buffer = new byte[2048];
            while (received < total)
            {
                int length;
                try
                {
                    length = receiver.Receive(buffer);
                }
                catch (SocketException exception) when (exception.SocketErrorCode == SocketError.TimedOut)
                {
                    return; // the rest were lost
                }

                var now = Stopwatch.GetTimestamp();
                if (length == PayloadSize)
                {
                    latencies[received++] = now - BinaryPrimitives.ReadInt64LittleEndian(buffer);
                }
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        receiving.Start();

        using var sender = link.CreateClientSocket(SocketType.Dgram, ProtocolType.Udp);
        sender.Connect(new IPEndPoint(link.ServerAddress, Port));
        var payload = new byte[PayloadSize];
        RealTime();
        var interval = Stopwatch.Frequency / packetsPerSecond;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = start + i * interval;
            while (Stopwatch.GetTimestamp() < due)
            {
                Thread.Sleep(1);
            }

            BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
            sender.Send(payload);
        }

        var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        receiving.Join();

        var added = latencies.Take(received)
            .Select(ticks => (ticks - configuredDelay.TotalSeconds * Stopwatch.Frequency) * 1000.0 / Stopwatch.Frequency)
            .Order()
            .ToArray();
        Console.WriteLine($"sent {total} datagrams in {sendSeconds:F2} s ({total / sendSeconds:F0}/s), received {received} ({100.0 * received / total:F2}%)");
        if (added.Length > 0)
        {
            Console.WriteLine(
                $"one-way delay configured {configuredDelay.TotalMilliseconds} ms; added by the link: " +
                $"min {added[0]:F3} ms, p50 {Percentile(added, 0.50):F3} ms, p90 {Percentile(added, 0.90):F3} ms, " +
                $"p99 {Percentile(added, 0.99):F3} ms, max {added[^1]:F3} ms; over 1 ms: {100.0 * added.Count(ms => ms > 1) / added.Length:F3}%");
        }

        Console.WriteLine($"to server: {link.ToServer}");
        return received == total ? 0 : 1;
    }

    private static unsafe void RealTime()
    {
        var priority = 10;
        Internal.NativeMethods.SchedSetScheduler(0, Internal.NativeMethods.SchedFifo, &priority);
    }

    private static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)];
}
