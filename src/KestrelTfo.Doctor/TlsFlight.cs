using System.Buffers.Binary;

namespace KestrelTfo.Doctor;

/// <summary>
/// What the TLS record headers of a first flight say, read without keys: where a client's 0-RTT flight ends (after its
/// first application-data record, the early data), and of a server's answer, whether its ServerHello resumed a session
/// and how long its first encrypted record (EncryptedExtensions) is.
/// </summary>
internal static class TlsFlight
{
    private const int RecordHeaderLength = 5;
    private const byte ChangeCipherSpec = 20;
    private const byte Handshake = 22;
    private const byte ApplicationData = 23;
    private const byte ServerHelloType = 2;
    private const ushort PreSharedKeyExtension = 41;

    /// <summary>
    /// The length of a client's 0-RTT first flight at the start of <paramref name="sent"/>: its records up to and
    /// including the first application-data record (the early data); 0 while that record is not all there.
    /// </summary>
    public static int FirstFlightLength(ReadOnlySpan<byte> sent)
    {
        for (var at = 0; TryRecord(sent, at, out var type, out var body); at += RecordHeaderLength + body.Length)
        {
            if (type == ApplicationData)
            {
                return at + RecordHeaderLength + body.Length;
            }
        }

        return 0;
    }

    /// <summary>
    /// Reads a server's answer to a TLS 1.3 ClientHello: false until it holds the ServerHello and the first encrypted
    /// record after it; then whether the server resumed (its ServerHello selects a pre-shared key) and that record's length.
    /// </summary>
    public static bool TryReadServerFlight(ReadOnlySpan<byte> flight, out bool resumed, out int firstEncryptedLength)
    {
        resumed = false;
        firstEncryptedLength = 0;
        var sawServerHello = false;
        for (var at = 0; TryRecord(flight, at, out var type, out var body); at += RecordHeaderLength + body.Length)
        {
            if (type == Handshake && !sawServerHello && body.Length > 0 && body[0] == ServerHelloType)
            {
                sawServerHello = true;
                resumed = SelectsPreSharedKey(body);
            }
            else if (type == ApplicationData && sawServerHello)
            {
                firstEncryptedLength = body.Length;
                return true;
            }
            else if (type != ChangeCipherSpec && type != Handshake)
            {
                return false;
            }
        }

        return false;
    }

    private static bool TryRecord(ReadOnlySpan<byte> data, int at, out byte type, out ReadOnlySpan<byte> body)
    {
        type = 0;
        body = default;
        if (at + RecordHeaderLength > data.Length)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 3)..]);
        if (at + RecordHeaderLength + length > data.Length)
        {
            return false;
        }

        type = data[at];
        body = data.Slice(at + RecordHeaderLength, length);
        return true;
    }

    /// <summary>Whether a ServerHello message (type, 24-bit length, body) carries the pre_shared_key extension.</summary>
    private static bool SelectsPreSharedKey(ReadOnlySpan<byte> message)
    {
        // type (1), length (3), legacy_version (2), random (32), then the echoed session id, cipher suite, compression.
        var at = 1 + 3 + 2 + 32;
        if (at >= message.Length)
        {
            return false;
        }

        at += 1 + message[at] + 2 + 1;
        if (at + 2 > message.Length)
        {
            return false;
        }

        var end = Math.Min(message.Length, at + 2 + BinaryPrimitives.ReadUInt16BigEndian(message[at..]));
        for (at += 2; at + 4 <= end; at += 4 + BinaryPrimitives.ReadUInt16BigEndian(message[(at + 2)..]))
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(message[at..]) == PreSharedKeyExtension)
            {
                return true;
            }
        }

        return false;
    }
}
