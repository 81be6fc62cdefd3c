using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KestrelTfo.Internal;

/// <summary>
/// A listener's places in the kernel's TCP Fast Open queue, as this process sees them: the connections accepted before
/// their handshake completed, per client (an IPv4 address or an IPv6 /64) and in all, each client up to a limit.
/// </summary>
/// <remarks>
/// A connection its client resets before the handshake completes keeps its place in the kernel's queue for 60 seconds,
/// the kernel's own defence against spoofed SYNs (<c>tcp_check_req</c> calls <c>reqsk_fastopen_remove</c> with reset),
/// so it keeps its place in its client's share for as long: a client cannot reset its way past the limit.
/// </remarks>
internal sealed class HandshakeShares(int? perClientLimit, TimeProvider time)
{
    /// <summary>How long the kernel keeps a place for a TCP Fast Open connection its client reset.</summary>
    public static readonly TimeSpan ResetHold = TimeSpan.FromSeconds(60);

    private readonly Dictionary<UInt128, int> _byClient = [];
    private readonly Queue<(UInt128 Client, long Until)> _held = new();
    private int _total;

    /// <summary>The places taken now.</summary>
    public int Count
    {
        get
        {
            lock (_byClient)
            {
                ExpireHeld();
                return _total;
            }
        }
    }

    /// <summary>The client an address belongs to: the address itself for IPv4 (also mapped to IPv6), its /64 for IPv6.</summary>
    public static UInt128 ClientOf(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            // As ::ffff:a.b.c.d, so that both forms of one IPv4 address are one client and none is an IPv6 /64 (whose low
            // half is zero).
            bytes[10] = 0xff;
            bytes[11] = 0xff;
            address.TryWriteBytes(bytes[12..], out _);
            return BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }

        address.TryWriteBytes(bytes, out _);
        if (address.IsIPv4MappedToIPv6)
        {
            return BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }

        bytes[8..].Clear();
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>Takes a place for <paramref name="client"/>, unless it holds its limit already.</summary>
    /// <param name="client">From <see cref="ClientOf"/>.</param>
    /// <param name="total">The places taken now, this one included.</param>
    public bool TryAdd(UInt128 client, out int total)
    {
        lock (_byClient)
        {
            ExpireHeld();
            ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_byClient, client, out _);
            if (perClientLimit is { } limit && count >= limit)
            {
                total = _total;
                return false;
            }

            count++;
            total = ++_total;
            return true;
        }
    }

    /// <summary>Gives back a place: the handshake completed, or the connection was closed.</summary>
    public void Remove(UInt128 client)
    {
        lock (_byClient)
        {
            RemoveLocked(client);
        }
    }

    /// <summary>Gives back a place after <see cref="ResetHold"/>: its client reset the connection.</summary>
    public void RemoveAfterResetHold(UInt128 client)
    {
        lock (_byClient)
        {
            // One hold for all, so the queue is in expiry order.
            _held.Enqueue((client, time.GetTimestamp() + (long)(ResetHold.TotalSeconds * time.TimestampFrequency)));
        }
    }

    private void ExpireHeld()
    {
        var now = time.GetTimestamp();
        while (_held.TryPeek(out var held) && held.Until <= now)
        {
            _held.Dequeue();
            RemoveLocked(held.Client);
        }
    }

    private void RemoveLocked(UInt128 client)
    {
        ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_byClient, client);
        if (Unsafe.IsNullRef(ref count))
        {
            return;
        }

        _total--;
        if (--count == 0)
        {
            _byClient.Remove(client);
        }
    }
}
