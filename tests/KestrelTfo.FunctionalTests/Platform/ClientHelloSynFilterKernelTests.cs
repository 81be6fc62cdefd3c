using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Platform;

/// <summary>
/// The kernel runs the SYN filter on a sample of the payloads the differential fuzz (ClientHelloSynFilterTests) feeds
/// its interpreter, and must keep or trim each SYN's data exactly as the interpreter says: the fuzz's verdicts hold for
/// the kernel only if the interpreter is the kernel's reading of the program.
/// </summary>
public sealed class ClientHelloSynFilterKernelTests
{
    private const int Payloads = 60;
    private const int Seed = 25_2026;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("ipv4")]
    [InlineData("ipv6")]
    public async Task The_kernel_keeps_or_trims_each_SYNs_data_as_the_interpreter_predicts(string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var server = family == "ipv4" ? Loopback.NextAddress() : Loopback.NextIPv6Address();
        var client = family == "ipv4" ? Loopback.NextAddress() : Loopback.NextIPv6Address();
        using var listener = RawFastOpen.Listen(server);
        ClientHelloSynFilter.Attach(listener);
        var from = RawFastOpen.From(client);

        // The first connection from the client's own address fetches its cookie; its data never rides in the SYN.
        Assert.False(await RawFastOpen.EchoAsync(listener, "cookie"u8.ToArray(), Timeout, from));

        var mismatches = new List<string>();
        var outcomes = new int[2];
        var random = new Random(Seed);
        for (var i = 0; i < Payloads; i++)
        {
            var payload = Payload(random, i);
            var segment = ClassicBpf.Segment(TcpHeader.Syn, optionBytes: 20, payload);
            var predicted = ClassicBpf.Run(ClientHelloSynFilter.Program, segment) == segment.Length;

            var inTheSyn = await RawFastOpen.EchoAsync(listener, payload, Timeout, from);

            outcomes[inTheSyn ? 1 : 0]++;
            if (inTheSyn != predicted)
            {
                mismatches.Add($"{Convert.ToHexString(payload.AsSpan(0, Math.Min(16, payload.Length)))}… ({payload.Length} bytes): predicted {(predicted ? "whole" : "trimmed")}");
            }
        }

        Assert.Empty(mismatches);
        Assert.True(outcomes[0] > Payloads / 10 && outcomes[1] > Payloads / 10, $"trimmed {outcomes[0]}, whole {outcomes[1]}");
    }

    // The fuzz's shapes, each small enough for one SYN: real ClientHellos cut short, with a byte of their first eleven
    // changed, handshake-record starts, HTTP, and random bytes.
    private static byte[] Payload(Random random, int i)
    {
        var hello = ClientHelloCorpus.Read(ClientHelloCorpus.Names[random.Next(ClientHelloCorpus.Names.Length)]);
        switch (i % 5)
        {
            case 0:
                return hello[..random.Next(1, Math.Min(hello.Length, 1200) + 1)];
            case 1:
                var mutated = hello[..Math.Min(hello.Length, 1200)];
                mutated[random.Next(0, 11)] = (byte)random.Next(256);
                return mutated;
            case 2:
                byte[] start = [22, 3, (byte)random.Next(0, 6), 0, (byte)random.Next(256), (byte)random.Next(0, 3), 0, 0, 0x40];
                return start[..random.Next(1, start.Length + 1)];
            case 3:
                return "GET / HTTP/1.1\r\nHost: filter.test\r\n\r\n"u8.ToArray();
            default:
                var bytes = new byte[random.Next(1, 1200)];
                random.NextBytes(bytes);
                return bytes;
        }
    }
}
