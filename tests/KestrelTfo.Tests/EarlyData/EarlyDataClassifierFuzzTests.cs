using System.Buffers.Binary;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Tests.EarlyData;

public sealed class EarlyDataClassifierFuzzTests
{
    private const int Inputs = 1_000_000;
    private const int Seed = 4_2026;
    private const int ClientHelloHeaderBytes = 11;

    private static readonly byte[][] Hellos = [.. ClientHelloCorpus.Names.Select(ClientHelloCorpus.Read)];

    private static readonly byte[][] HttpStarts =
    [
        "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"u8.ToArray(),
        "POST /orders HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"u8.ToArray(),
        "QUERY "u8.ToArray(),
        "PROPFIND /files HTTP/1.1\r\n"u8.ToArray(),
        "PRI * HTTP/1.1\r\n"u8.ToArray(),
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(),
    ];

    [Fact]
    public void A_million_random_and_mutated_inputs_are_classified_consistently()
    {
        var random = new Random(Seed);
        var buffer = new byte[4096];
        var kinds = new int[5];
        var mutatedHelloKinds = new int[5];

        for (var input = 0; input < Inputs; input++)
        {
            var shape = input % 5;
            var length = shape switch
            {
                0 => RandomBytes(random, buffer),
                1 => RandomHandshakeRecordStart(random, buffer),
                2 => MutatedHello(random, buffer),
                3 => HelloWithChangedBody(random, buffer),
                _ => MutatedHttp(random, buffer),
            };
            var data = buffer.AsSpan(0, length);

            var result = EarlyDataClassifier.Classify(data);

            kinds[(int)result.Kind]++;
            if (shape == 2)
            {
                mutatedHelloKinds[(int)result.Kind]++;
            }

            CheckInvariants(data, result, random, input);
            if (shape == 3 && result.Kind != EarlyDataKind.TlsClientHello)
            {
                Assert.Fail($"Input {input} (seed {Seed}), a hello with only its body changed, is {result}: {Convert.ToHexString(data)}");
            }

            if (shape is 1 or 2 && (result.Kind == EarlyDataKind.TlsClientHello) != ReferenceIsClientHello(data))
            {
                Assert.Fail($"Input {input} (seed {Seed}) is {result}, the reference disagrees: {Convert.ToHexString(data)}");
            }
        }

        // Every kind is reached, and the hello mutations land on both sides of the TLS rules.
        Assert.All(kinds, count => Assert.True(count > 0, string.Join(", ", kinds)));
        Assert.True(mutatedHelloKinds[(int)EarlyDataKind.TlsClientHello] > Inputs / 40, string.Join(", ", mutatedHelloKinds));
        Assert.True(mutatedHelloKinds[(int)EarlyDataKind.Unknown] > Inputs / 40, string.Join(", ", mutatedHelloKinds));
    }

    private static void CheckInvariants(ReadOnlySpan<byte> data, EarlyDataClassification result, Random random, int input)
    {
        var kind = result.Kind;
        var holds = kind is >= EarlyDataKind.None and <= EarlyDataKind.Unknown
            && (kind == EarlyDataKind.None) == data.IsEmpty
            && result.IsReplaySafe == (kind is EarlyDataKind.None or EarlyDataKind.TlsClientHello)
            && (result.HttpMethod is null || kind == EarlyDataKind.HttpRequest)
            && (kind != EarlyDataKind.TlsClientHello || (data.Length >= TlsClientHello.MinimumBytes && data[0] == 22));

        // Judging only what is visible means a shorter start of the same bytes never changes the answer,
        // down to the fewest bytes the answer needs.
        if (holds && kind is EarlyDataKind.TlsClientHello or EarlyDataKind.Http2Preface or EarlyDataKind.HttpRequest)
        {
            var minimum = kind switch
            {
                EarlyDataKind.TlsClientHello => TlsClientHello.MinimumBytes,
                EarlyDataKind.Http2Preface => 4,
                _ => result.HttpMethod is { } method ? method.Length + 1 : data.Length,
            };
            var prefix = EarlyDataClassifier.Classify(data[..random.Next(minimum, data.Length + 1)]);
            holds = prefix.Kind == kind && ReferenceEquals(prefix.HttpMethod, result.HttpMethod);
        }

        if (!holds)
        {
            Assert.Fail($"Input {input} (seed {Seed}) is {result}, which breaks an invariant: {Convert.ToHexString(data)}");
        }
    }

    private static int RandomBytes(Random random, byte[] buffer)
    {
        var length = random.Next(0, 2001);
        random.NextBytes(buffer.AsSpan(0, length));
        return length;
    }

    // Random bytes rarely start with 22, so these start like a handshake record to reach the deeper rules.
    private static int RandomHandshakeRecordStart(Random random, byte[] buffer)
    {
        var length = random.Next(0, 600);
        random.NextBytes(buffer.AsSpan(0, length));
        ReadOnlySpan<byte> start = [22, 3, (byte)random.Next(0, 6), 0, (byte)random.Next(0, 256), 1, 0, 0, (byte)random.Next(0, 256), 3, (byte)random.Next(0, 6)];
        var keep = Math.Min(length, random.Next(1, start.Length + 1));
        start[..keep].CopyTo(buffer);
        return length;
    }

    private static int MutatedHello(Random random, byte[] buffer)
    {
        var hello = Hellos[random.Next(Hellos.Length)];
        var length = hello.Length;
        hello.CopyTo(buffer, 0);
        var mutations = random.Next(1, 4);
        for (var i = 0; i < mutations; i++)
        {
            switch (random.Next(6))
            {
                case 0:
                    // A bit flip, mostly in the header where the rules look.
                    var at = random.Next(2) == 0 ? random.Next(ClientHelloHeaderBytes) : random.Next(length);
                    buffer[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    length = random.Next(0, length + 1);
                    break;
                case 2:
                    var recordLength = random.Next(3) switch
                    {
                        0 => random.Next(0, 0x10000),
                        1 => BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(3)) + random.Next(-8, 9),
                        _ => random.Next(TlsClientHello.MaxRecordLength - 2, TlsClientHello.MaxRecordLength + 3),
                    };
                    BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(3), (ushort)recordLength);
                    break;
                case 3:
                    var handshakeLength = random.Next(2) == 0
                        ? random.Next(0, 1 << 24)
                        : ((buffer[6] << 16) | (buffer[7] << 8) | buffer[8]) + random.Next(-50, 51);
                    buffer[6] = (byte)(handshakeLength >> 16);
                    buffer[7] = (byte)(handshakeLength >> 8);
                    buffer[8] = (byte)handshakeLength;
                    break;
                case 4:
                    // Splice: the start of this hello, then the rest of another from some offset.
                    var other = Hellos[random.Next(Hellos.Length)];
                    var from = random.Next(other.Length);
                    var cut = random.Next(1, length + 1);
                    var count = Math.Min(other.Length - from, buffer.Length - cut);
                    other.AsSpan(from, count).CopyTo(buffer.AsSpan(cut));
                    length = cut + count;
                    break;
                default:
                    // Re-frame as two records split anywhere, as a client with a large hello would.
                    var message = TlsRecords.HandshakeMessage(hello);
                    var framed = TlsRecords.Frame(message, random.Next(1, message.Length));
                    framed.CopyTo(buffer, 0);
                    length = framed.Length;
                    break;
            }
        }

        return length;
    }

    // An HTTP/1.x request or HTTP/2 preface, maybe with a byte changed, cut anywhere, then random bytes.
    private static int MutatedHttp(Random random, byte[] buffer)
    {
        var start = HttpStarts[random.Next(HttpStarts.Length)];
        start.CopyTo(buffer, 0);
        if (random.Next(2) == 0)
        {
            buffer[random.Next(start.Length)] = (byte)random.Next(256);
        }

        var length = random.Next(0, start.Length + 1);
        var tail = random.Next(0, 100);
        random.NextBytes(buffer.AsSpan(length, tail));
        return length + tail;
    }

    private static int HelloWithChangedBody(Random random, byte[] buffer)
    {
        var hello = Hellos[random.Next(Hellos.Length)];
        hello.CopyTo(buffer, 0);
        var changes = random.Next(1, 20);
        for (var i = 0; i < changes; i++)
        {
            buffer[random.Next(ClientHelloHeaderBytes, hello.Length)] = (byte)random.Next(256);
        }

        return random.Next(TlsClientHello.MinimumBytes, hello.Length + 1);
    }

    // The TLS rules written the other way round: reassemble the handshake bytes the records carry, then judge.
    private static bool ReferenceIsClientHello(ReadOnlySpan<byte> data)
    {
        if (data.Length < TlsClientHello.MinimumBytes)
        {
            return false;
        }

        var message = new List<byte>();
        long carried = 0;
        for (var position = 0; position < data.Length;)
        {
            var header = data[position..Math.Min(position + 5, data.Length)];
            if (header[0] != 22 || (header.Length > 1 && header[1] != 3) || (header.Length > 2 && header[2] > 4))
            {
                return false;
            }

            if (header.Length < 5)
            {
                break;
            }

            var recordLength = (header[3] << 8) | header[4];
            if (recordLength < 1 || recordLength > TlsClientHello.MaxRecordLength)
            {
                return false;
            }

            var fragment = data[(position + 5)..Math.Min(position + 5 + recordLength, data.Length)];
            message.AddRange(fragment.ToArray());
            carried += recordLength;
            if (message.Count >= 4 && carried >= 4 + ((message[1] << 16) | (message[2] << 8) | message[3]))
            {
                break;
            }

            position += 5 + recordLength;
        }

        return (message.Count < 1 || message[0] == 1)
            && (message.Count < 4 || ((message[1] << 16) | (message[2] << 8) | message[3]) >= TlsClientHello.MinimumClientHelloLength)
            && (message.Count < 5 || message[4] == 3)
            && (message.Count < 6 || message[5] <= 4);
    }
}
