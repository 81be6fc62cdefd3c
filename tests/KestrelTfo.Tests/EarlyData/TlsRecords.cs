using System.Buffers.Binary;

namespace KestrelTfo.Tests.EarlyData;

/// <summary>Takes captured ClientHellos apart and frames their handshake message in other records.</summary>
internal static class TlsRecords
{
    /// <summary>The handshake message carried by a capture's records (type, 3-byte length, body).</summary>
    public static byte[] HandshakeMessage(byte[] records)
    {
        var message = new List<byte>();
        for (var position = 0; position < records.Length;)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(position + 3));
            message.AddRange(records.AsSpan(position + 5, length));
            position += 5 + length;
        }

        return [.. message];
    }

    /// <summary>Frames <paramref name="message"/> as handshake records of the given fragment sizes (the last takes the rest).</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message, params int[] fragmentSizes)
    {
        var records = new List<byte>();
        var offset = 0;
        for (var i = 0; i <= fragmentSizes.Length && offset < message.Length; i++)
        {
            var size = i < fragmentSizes.Length ? fragmentSizes[i] : message.Length - offset;
            records.AddRange([22, 3, 1, (byte)(size >> 8), (byte)size]);
            records.AddRange(message.Slice(offset, size));
            offset += size;
        }

        return [.. records];
    }

    /// <summary>A ClientHello-shaped handshake message of any length: header, client_version 3.3, then zeros.</summary>
    public static byte[] SyntheticMessage(int bodyLength)
    {
        var message = new byte[4 + bodyLength];
        message[0] = 1;
        message[1] = (byte)(bodyLength >> 16);
        message[2] = (byte)(bodyLength >> 8);
        message[3] = (byte)bodyLength;
        if (bodyLength >= 2)
        {
            message[4] = 3;
            message[5] = 3;
        }

        return message;
    }
}
