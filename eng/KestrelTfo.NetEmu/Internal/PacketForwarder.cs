using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.NetEmu.Internal;

/// <summary>
/// One direction of the link: a reader thread takes IP packets from the sending TUN device, stamps them and
/// decides their fate (loss, delay, jitter, reordering, duplication, replay); a release thread writes each to the
/// receiving device at its due time.
/// </summary>
/// <remarks>
/// The release thread waits on a monitor while the next packet is far off, so an earlier packet can wake it, and
/// sleeps the last stretch with <c>clock_nanosleep(TIMER_ABSTIME)</c> and a timer slack of 1 ns, which lands
/// within tens of microseconds of the deadline without spinning a core the machine shares. Both threads ask for
/// real-time scheduling so that a busy machine does not make them late.
/// </remarks>
internal sealed unsafe class PacketForwarder : IDisposable
{
    private const int MaxPacketSize = 65536;
    private const ushort TcpChecksumOffset = 16;

    // Closer than this, the release thread sleeps precisely instead of waiting on the monitor.
    private static readonly long s_preciseWindow = Stopwatch.Frequency * 2 / 1000;

    private readonly string _direction;
    private readonly int _source;
    private readonly int _destination;
    private readonly int _stopEvent;
    private readonly LinkDirectionStatistics _statistics;
    private readonly SegmentTrace? _trace;
    private readonly bool _toServer;
    private readonly int _headerLength;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly long _delay;
    private readonly long _jitter;
    private readonly double _lossRate;
    private readonly double _duplicateRate;
    private readonly double _reorderRate;
    private readonly long? _replayAfter;
    private readonly bool _dropSynWithData;
    private readonly object _gate = new();
    private readonly PriorityQueue<ScheduledPacket, (long Due, long Sequence)> _queue = new();
    private readonly Thread _reader;
    private readonly Thread _releaser;
    private long _sequence;
    private bool _stopping;
    private bool _writeFailureLogged;

    // checksumOffload: both devices carry a virtio header, which the forwarder marks as checksum-verified.
    public PacketForwarder(
        bool toServer, int source, int destination, bool checksumOffload, LinkDirectionOptions options, LinkDirectionStatistics statistics, SegmentTrace? trace, int seed, ILogger logger)
    {
        _toServer = toServer;
        _headerLength = checksumOffload ? TunDevice.VirtioHeaderLength : 0;
        _direction = toServer ? "to-server" : "to-client";
        _trace = trace;
        _source = source;
        _destination = destination;
        _statistics = statistics;
        _logger = logger;
        _random = new Random(seed);
        _delay = ToTicks(options.Delay);
        _jitter = ToTicks(options.Jitter);
        _lossRate = options.LossRate;
        _duplicateRate = options.DuplicateRate;
        _reorderRate = options.ReorderRate;
        _replayAfter = options.ReplaySynWithDataAfter is { } replay ? ToTicks(replay) : null;
        _dropSynWithData = options.DropSynWithData;

        _stopEvent = NativeMethods.EventFd(0, NativeMethods.EfdNonBlock | NativeMethods.EfdCloExec);
        if (_stopEvent < 0)
        {
            throw new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError(), "eventfd failed");
        }

        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"netemu {_direction} reader" };
        _releaser = new Thread(ReleaseLoop) { IsBackground = true, Name = $"netemu {_direction} release" };
    }

    public void Start()
    {
        _releaser.Start();
        _reader.Start();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        ulong one = 1;
        NativeMethods.Write(_stopEvent, (byte*)&one, sizeof(ulong));
        if (_reader.ThreadState != System.Threading.ThreadState.Unstarted)
        {
            _reader.Join();
            _releaser.Join();
        }

        NativeMethods.Close(_stopEvent);
    }

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Asks for real-time scheduling: on a busy machine an ordinary thread can wake milliseconds late, which would
    /// land straight in the emulated delay. Root may; anyone else keeps normal scheduling, and the link still works.
    /// The kernel's real-time throttling keeps these threads from starving the machine.
    /// </summary>
    private static void TryRealTimeScheduling()
    {
        var priority = 10;
        NativeMethods.SchedSetScheduler(0, NativeMethods.SchedFifo, &priority);
    }

    private void ReadLoop()
    {
        TryRealTimeScheduling();
        var buffer = new byte[MaxPacketSize];
        var fds = stackalloc NativeMethods.PollFd[2];
        fds[0] = new NativeMethods.PollFd { Fd = _source, Events = NativeMethods.PollIn };
        fds[1] = new NativeMethods.PollFd { Fd = _stopEvent, Events = NativeMethods.PollIn };
        while (true)
        {
            nint read;
            fixed (byte* start = buffer)
            {
                read = NativeMethods.Read(_source, start, buffer.Length);
            }

            if (read > _headerLength)
            {
                Accept(buffer.AsSpan(_headerLength, (int)read - _headerLength));
                continue;
            }

            var error = read == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (error == NativeMethods.EIntr)
            {
                continue;
            }

            if (error != NativeMethods.EAgain)
            {
                if (!Volatile.Read(ref _stopping))
                {
                    NetEmuLog.ReadFailed(_logger, _direction, error);
                }

                return;
            }

            // Drained: wait for the next packet or for Dispose.
            fds[0].ReturnedEvents = 0;
            fds[1].ReturnedEvents = 0;
            if (NativeMethods.Poll(fds, 2, -1) < 0 && Marshal.GetLastPInvokeError() != NativeMethods.EIntr)
            {
                NetEmuLog.ReadFailed(_logger, _direction, Marshal.GetLastPInvokeError());
                return;
            }

            if (fds[1].ReturnedEvents != 0)
            {
                return;
            }
        }
    }

    private void Accept(ReadOnlySpan<byte> packet)
    {
        var arrived = Stopwatch.GetTimestamp();
        _statistics.OnReceived();
        // The header written with each packet: no segmentation, and for an IPv4 TCP segment the TCP checksum's place, so
        // that the receiving kernel trusts the checksum (which the sender's kernel computed: the device offers no
        // offloads) as it would a network card's verdict.
        var bytes = new byte[_headerLength + packet.Length];
        if (_headerLength > 0 && packet.Length >= 20 && packet[0] >> 4 == 4 && packet[9] == 6)
        {
            bytes[0] = TunDevice.VirtioNeedsChecksum;
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)((packet[0] & 0x0f) * 4));
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), TcpChecksumOffset);
        }

        packet.CopyTo(bytes.AsSpan(_headerLength));
        var synWithData = (_replayAfter is not null || _dropSynWithData) && TcpSegmentHeader.TryRead(packet, out var header) && header.IsSynWithData;
        var replay = _replayAfter is not null && synWithData;

        var delay = _delay;
        if (_jitter > 0)
        {
            delay = Math.Max(0, delay + (long)((_random.NextDouble() * 2 - 1) * _jitter));
        }

        if (_reorderRate > 0 && _random.NextDouble() < _reorderRate)
        {
            delay = 0;
            _statistics.OnReordered();
        }

        var due = arrived + delay;
        var dropped = (_dropSynWithData && synWithData) || (_lossRate > 0 && _random.NextDouble() < _lossRate);
        var duplicated = !dropped && _duplicateRate > 0 && _random.NextDouble() < _duplicateRate;
        lock (_gate)
        {
            if (dropped)
            {
                _statistics.OnDropped();
            }
            else
            {
                Enqueue(new ScheduledPacket(bytes, _headerLength, arrived, IsReplay: false), due);
            }

            if (duplicated)
            {
                _statistics.OnDuplicated();
                Enqueue(new ScheduledPacket(bytes, _headerLength, arrived, IsReplay: false), due);
            }

            if (replay)
            {
                // Counted from when the original was (or, if lost, would have been) delivered.
                Enqueue(new ScheduledPacket(bytes, _headerLength, arrived, IsReplay: true), due + _replayAfter!.Value);
            }
        }
    }

    private void Enqueue(ScheduledPacket packet, long due)
    {
        var sequence = _sequence++;
        _queue.Enqueue(packet, (due, sequence));
        if (_queue.TryPeek(out _, out var head) && head.Sequence == sequence)
        {
            Monitor.Pulse(_gate);
        }
    }

    private void ReleaseLoop()
    {
        NativeMethods.Prctl(NativeMethods.PrSetTimerSlack, 1, 0, 0, 0);
        TryRealTimeScheduling();
        var batch = new List<ScheduledPacket>();
        while (true)
        {
            long due;
            lock (_gate)
            {
                while (true)
                {
                    if (_stopping)
                    {
                        return;
                    }

                    if (!_queue.TryPeek(out _, out var head))
                    {
                        Monitor.Wait(_gate);
                        continue;
                    }

                    var remaining = head.Due - Stopwatch.GetTimestamp();
                    if (remaining <= s_preciseWindow)
                    {
                        due = head.Due;
                        break;
                    }

                    // Wakes between 1 and 2 ms before the deadline; the rest is slept precisely below.
                    Monitor.Wait(_gate, (int)((remaining - s_preciseWindow) * 1000 / Stopwatch.Frequency) + 1);
                }
            }

            SleepUntil(due);
            lock (_gate)
            {
                var now = Stopwatch.GetTimestamp();
                while (_queue.TryPeek(out _, out var head) && head.Due <= now)
                {
                    batch.Add(_queue.Dequeue());
                }
            }

            foreach (var packet in batch)
            {
                Deliver(packet);
            }

            batch.Clear();
        }
    }

    private static void SleepUntil(long due)
    {
        if (Stopwatch.Frequency != 1_000_000_000)
        {
            // Not Linux's CLOCK_MONOTONIC in nanoseconds: fall back to a coarse sleep.
            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining > 0)
            {
                Thread.Sleep(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
            }

            return;
        }

        var deadline = new NativeMethods.TimeSpec { Seconds = due / 1_000_000_000, Nanoseconds = due % 1_000_000_000 };
        while (NativeMethods.ClockNanosleep(NativeMethods.ClockMonotonic, NativeMethods.TimerAbsTime, &deadline, null) == NativeMethods.EIntr)
        {
        }
    }

    private void Deliver(ScheduledPacket packet)
    {
        // Stamped and recorded before the write: the receiver's kernel may handle the packet, and its application
        // act on it, before the write returns, and no answer must seem to come before what it answers, nor anyone
        // miss in the trace a packet they already acted on. A write that fails is logged.
        if (_trace is not null && TcpSegmentHeader.TryRead(packet.Packet, out var header))
        {
            _trace.Record(new TracedSegment(
                _toServer, header.SourcePort, header.DestinationPort, header.Sequence, (header.Flags & KestrelTfo.Platform.TcpHeader.Syn) != 0, header.PayloadLength, packet.Taken, Stopwatch.GetTimestamp()));
        }

        nint written;
        fixed (byte* start = packet.Bytes)
        {
            written = NativeMethods.Write(_destination, start, packet.Bytes.Length);
        }

        if (written < 0)
        {
            if (!_writeFailureLogged)
            {
                _writeFailureLogged = true;
                NetEmuLog.WriteFailed(_logger, _direction, Marshal.GetLastPInvokeError());
            }

            return;
        }

        _statistics.OnDelivered();
        if (packet.IsReplay)
        {
            _statistics.OnReplayed();
        }
    }
}
