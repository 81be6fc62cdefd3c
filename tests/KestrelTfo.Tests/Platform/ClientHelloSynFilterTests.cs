using CsCheck;
using KestrelTfo.EarlyData;
using KestrelTfo.Platform;

namespace KestrelTfo.Tests.Platform;

/// <summary>
/// The kernel's SYN filter against the classifier on the same payloads (a differential fuzz): the filter may be looser
/// than the classifier, never stricter, for what is replay-safe. The filter's real encoded program runs in
/// <see cref="ClassicBpf"/>, on the TCP segment the kernel would hand it, with every length of TCP options; the kernel
/// itself runs a sample of the same payloads in ClientHelloSynFilterKernelTests.
/// </summary>
public sealed class ClientHelloSynFilterTests
{
    private const int Iterations = 40_000;
    private const int HeaderLengthInstruction = 5;
    private const int HandshakeTypeInstruction = 16;

    private static readonly byte[][] Hellos = [.. ClientHelloCorpus.Names.Select(ClientHelloCorpus.Read)];

    private static readonly byte[][] HttpStarts =
    [
        "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"u8.ToArray(),
        "POST /orders HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"u8.ToArray(),
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(),
        "PROPFIND /files HTTP/1.1\r\n"u8.ToArray(),
    ];

    /// <summary>Every length of TCP options a header can carry, in its 4-byte steps.</summary>
    private static readonly Gen<int> s_optionBytes = Gen.Int[0, 10].Select(words => words * 4);

    /// <summary>
    /// Payloads from every side of the filter's and the classifier's rules: real ClientHellos cut short and mutated
    /// (mostly in the bytes both judge), handshake-record starts with random fields, HTTP, and random bytes.
    /// </summary>
    private static readonly Gen<byte[]> s_payload = Gen.Frequency(
        (4, MutatedHellos()),
        (2, Gen.Select(Gen.Byte.Array[0, 11], Gen.Byte.Array[0, 300], Gen.Int[1, 11], (fields, tail, keep) => RecordStart(fields, tail, keep))),
        (1, Gen.Select(Gen.Int[0, HttpStarts.Length - 1], Gen.Int[1, 64], (which, cut) => HttpStarts[which][..Math.Min(cut, HttpStarts[which].Length)])),
        (1, Gen.Byte.Array[0, 1400]));

    [Fact]
    public void Whatever_the_classifier_calls_replay_safe_the_filter_lets_through_whole_and_what_it_trims_it_trims_to_the_header()
    {
        var counts = new int[4];
        Gen.Select(s_payload, s_optionBytes).Sample((payload, options) =>
        {
            var verdict = Judge(ClientHelloSynFilter.Program, payload, options);
            Interlocked.Increment(ref counts[(verdict.Whole ? 2 : 0) + (verdict.ReplaySafe ? 1 : 0)]);
            return verdict.Holds;
        }, iter: Iterations);

        // The inputs reach both sides of both: trimmed, passed but not replay-safe (the filter's looseness, left to the
        // classifier in user space), and replay-safe. Trimmed and replay-safe together is what must never happen.
        Assert.True(counts[0] > Iterations / 20, string.Join(", ", counts));
        Assert.True(counts[2] > Iterations / 50, string.Join(", ", counts));
        Assert.True(counts[3] > Iterations / 20, string.Join(", ", counts));
        Assert.Equal(0, counts[1]);
    }

    [Fact]
    public void The_real_ClientHellos_and_every_start_of_them_the_classifier_accepts_pass_whole_with_every_option_length()
    {
        foreach (var hello in Hellos)
        {
            for (var options = 0; options <= 40; options += 4)
            {
                for (var length = 0; length <= hello.Length; length++)
                {
                    var verdict = Judge(ClientHelloSynFilter.Program, hello[..length], options);
                    Assert.True(verdict.Holds, $"{length} bytes of a ClientHello behind {options} bytes of options: {verdict}");
                    Assert.Equal(length >= TlsClientHello.MinimumBytes, verdict.ReplaySafe && length > 0);
                }
            }
        }
    }

    [Fact]
    public void Segments_other_than_a_first_SYN_are_kept_whole_whatever_they_carry()
    {
        Gen.Select(s_payload, s_optionBytes, Gen.OneOf(Gen.Const((byte)(TcpHeader.Syn | TcpHeader.Ack)), Gen.Const(TcpHeader.Ack), Gen.Const((byte)(TcpHeader.Ack | TcpHeader.Fin))))
            .Sample((payload, options, flags) =>
            {
                var segment = ClassicBpf.Segment(flags, options, payload);
                return ClassicBpf.Run(ClientHelloSynFilter.Program, segment) == segment.Length;
            }, iter: Iterations / 4);
    }

    [Theory]
    [InlineData(HandshakeTypeInstruction, 2u)]
    [InlineData(HeaderLengthInstruction, 0x14u)]
    public void A_filter_stricter_than_the_classifier_is_caught(int instruction, uint k)
    {
        // The real program with one constant changed: wanting handshake type 2 (server_hello) trims every ClientHello;
        // masking the header length with 0x14 reads the payload at the wrong place behind most lengths of options, but
        // not behind none. The property must catch both, or it could not catch a real filter that grew stricter.
        var stricter = ClientHelloSynFilter.Program.ToArray();
        BitConverter.TryWriteBytes(stricter.AsSpan(instruction * SocketFilter.InstructionSize + 4), k);
        Assert.True(Judge(stricter, Hellos[0], options: 0).Holds || instruction == HandshakeTypeInstruction);

        Assert.Throws<CsCheckException>(() => Gen.Select(s_payload, s_optionBytes)
            .Sample((payload, options) => Judge(stricter, payload, options).Holds, iter: Iterations / 4, threads: 1));
    }

    private static Verdict Judge(byte[] program, byte[] payload, int options)
    {
        var segment = ClassicBpf.Segment(TcpHeader.Syn, options, payload);
        var kept = ClassicBpf.Run(program, segment);
        var header = TcpHeader.MinimumLength + options;
        return new Verdict(kept, header, segment.Length, EarlyDataClassifier.Classify(payload).IsReplaySafe);
    }

    private static Gen<byte[]> MutatedHellos() =>
        Gen.Select(
            Gen.Int[0, Hellos.Length - 1],
            Gen.Frequency((1, Gen.Int[0, 16]), (2, Gen.Int[17, 1400])),
            Gen.Select(Gen.Int[0, 15], Gen.Byte).Array[0, 3],
            Gen.Select(Gen.Int[0, 1399], Gen.Byte).Array[0, 3],
            (which, length, headerChanges, bodyChanges) =>
            {
                var hello = Hellos[which][..Math.Min(length, Hellos[which].Length)];
                foreach (var (at, value) in headerChanges.Concat(bodyChanges))
                {
                    if (at < hello.Length)
                    {
                        hello[at] = value;
                    }
                }

                return hello;
            });

    // A start that looks like a handshake record (22, 3, minor, length, type 1, ...) with each of the first `keep` bytes
    // either the expected one or random, so the deeper rules of both sides are reached.
    private static byte[] RecordStart(byte[] fields, byte[] tail, int keep)
    {
        byte[] expected = [22, 3, 1, 0, 0x80, 1, 0, 0, 0x7c, 3, 3];
        var start = expected.ToArray();
        for (var i = 0; i < Math.Min(keep, fields.Length); i++)
        {
            if ((fields[i] & 1) == 1)
            {
                start[i] = fields[i];
            }
        }

        return [.. start, .. tail];
    }

    private readonly record struct Verdict(int Kept, int HeaderLength, int SegmentLength, bool ReplaySafe)
    {
        public bool Whole => Kept == SegmentLength;

        // Never dropped, never cut inside the payload, and never trims what the classifier calls replay-safe.
        public bool Holds => (Whole || Kept == HeaderLength) && (Whole || !ReplaySafe);
    }
}
