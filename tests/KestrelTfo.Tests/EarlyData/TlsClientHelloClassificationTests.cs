using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Tests.EarlyData;

public sealed class TlsClientHelloClassificationTests
{
    [Theory]
    [MemberData(nameof(ClientHelloCorpus.TheoryNames), MemberType = typeof(ClientHelloCorpus))]
    public void Real_client_hello_is_a_replay_safe_TlsClientHello(string file)
    {
        var hello = ClientHelloCorpus.Read(file);

        var result = EarlyDataClassifier.Classify(hello);

        Assert.Equal(EarlyDataKind.TlsClientHello, result.Kind);
        Assert.True(result.IsReplaySafe);
        Assert.Null(result.HttpMethod);
    }

    [Theory]
    [MemberData(nameof(ClientHelloCorpus.TheoryNames), MemberType = typeof(ClientHelloCorpus))]
    public void Real_client_hello_cut_short_is_recognised_from_six_bytes_on(string file)
    {
        var hello = ClientHelloCorpus.Read(file);

        for (var length = 1; length <= hello.Length; length++)
        {
            var expected = length >= 6 ? EarlyDataKind.TlsClientHello : EarlyDataKind.Unknown;
            Assert.True(expected == EarlyDataClassifier.Classify(hello.AsSpan(0, length)).Kind, $"{file} cut to {length} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(ClientHelloCorpus.TheoryNames), MemberType = typeof(ClientHelloCorpus))]
    public void Real_client_hello_split_across_two_records_at_any_byte_is_recognised_whole_and_cut_short(string file)
    {
        var message = TlsRecords.HandshakeMessage(ClientHelloCorpus.Read(file));

        // Splits inside the 4-byte handshake header and client_version too: TLS allows fragmenting anywhere.
        for (var split = 1; split < message.Length; split++)
        {
            var records = TlsRecords.Frame(message, split);
            Assert.Equal(message.Length + 10, records.Length);
            for (var length = TlsClientHello.MinimumBytes; length <= records.Length; length++)
            {
                Assert.True(
                    EarlyDataClassifier.Classify(records.AsSpan(0, length)).Kind == EarlyDataKind.TlsClientHello,
                    $"{file} split after {split} bytes, cut to {length} bytes");
            }
        }
    }

    [Fact]
    public void Client_hello_in_one_byte_records_is_recognised()
    {
        var message = TlsRecords.HandshakeMessage(ClientHelloCorpus.Read("curl-tls13.bin"));
        var records = TlsRecords.Frame(message, Enumerable.Repeat(1, message.Length).ToArray());

        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(records).Kind);
    }

    [Fact]
    public void Client_hello_larger_than_a_record_is_recognised_whole_and_as_far_as_one_segment_carries_it()
    {
        var message = TlsRecords.SyntheticMessage(20_000);
        var records = TlsRecords.Frame(message, 16_384);

        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(records).Kind);
        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(records.AsSpan(0, 1460)).Kind);
    }

    [Theory]
    [InlineData(0, 23)]      // content type: application data
    [InlineData(0, 21)]      // content type: alert
    [InlineData(1, 2)]       // record version major
    [InlineData(1, 4)]
    [InlineData(2, 5)]       // record version minor
    [InlineData(2, 0xFF)]
    [InlineData(5, 2)]       // handshake type: server_hello
    [InlineData(5, 0)]
    [InlineData(9, 2)]       // client_version major
    [InlineData(9, 0x7F)]
    [InlineData(10, 5)]      // client_version minor
    [InlineData(10, 0xFE)]   // DTLS 1.2
    public void Wrong_header_byte_is_Unknown(int offset, byte value)
    {
        var hello = ClientHelloCorpus.Read("sslstream-tls13.bin");
        hello[offset] = value;

        Assert.Equal(EarlyDataKind.Unknown, EarlyDataClassifier.Classify(hello).Kind);
        Assert.False(EarlyDataClassifier.Classify(hello).IsReplaySafe);
    }

    [Theory]
    [InlineData(2, 0)]   // SSL 3.0
    [InlineData(2, 1)]   // TLS 1.0, what clients send in the record layer
    [InlineData(2, 3)]
    [InlineData(2, 4)]
    [InlineData(10, 0)]
    [InlineData(10, 1)]
    [InlineData(10, 4)]
    public void Every_version_from_SSL3_to_3_4_is_accepted(int offset, byte minor)
    {
        var hello = ClientHelloCorpus.Read("sslstream-tls12.bin");
        hello[offset] = minor;

        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(hello).Kind);
    }

    [Theory]
    [InlineData(0, EarlyDataKind.Unknown)]
    [InlineData(1, EarlyDataKind.TlsClientHello)]
    [InlineData(TlsClientHello.MaxRecordLength, EarlyDataKind.TlsClientHello)]
    [InlineData(TlsClientHello.MaxRecordLength + 1, EarlyDataKind.Unknown)]
    [InlineData(0xFFFF, EarlyDataKind.Unknown)]
    public void Record_length_must_be_1_to_the_maximum(int recordLength, EarlyDataKind expected)
    {
        // The fewest bytes that count: a record header and the handshake type, as a SYN might cut them.
        byte[] start = [22, 3, 1, (byte)(recordLength >> 8), (byte)recordLength, 1];

        Assert.Equal(expected, EarlyDataClassifier.Classify(start).Kind);
    }

    [Fact]
    public void Empty_record_before_the_client_hello_is_Unknown()
    {
        // TLS forbids zero-length handshake fragments.
        byte[] data = [22, 3, 1, 0, 0, .. ClientHelloCorpus.Read("curl-tls13.bin")];

        Assert.Equal(EarlyDataKind.Unknown, EarlyDataClassifier.Classify(data).Kind);
    }

    [Theory]
    [InlineData(TlsClientHello.MinimumClientHelloLength - 1, EarlyDataKind.Unknown)]
    [InlineData(TlsClientHello.MinimumClientHelloLength, EarlyDataKind.TlsClientHello)]
    [InlineData(0, EarlyDataKind.Unknown)]
    public void Handshake_length_must_hold_a_minimal_client_hello(int handshakeLength, EarlyDataKind expected)
    {
        var records = TlsRecords.Frame(TlsRecords.SyntheticMessage(handshakeLength));

        Assert.Equal(expected, EarlyDataClassifier.Classify(records).Kind);
    }

    [Fact]
    public void Record_longer_than_the_client_hello_is_accepted()
    {
        // The handshake ends inside its record: handshake length + 4 <= record length.
        byte[] records = [.. TlsRecords.Frame(TlsRecords.SyntheticMessage(50)), 0, 0, 0, 0];
        records[4] += 4;

        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(records).Kind);
    }

    [Fact]
    public void Handshake_longer_than_its_record_is_accepted_only_if_the_next_record_continues_it()
    {
        var message = TlsRecords.HandshakeMessage(ClientHelloCorpus.Read("curl-tls12.bin"));
        var records = TlsRecords.Frame(message, 100);
        var next = 5 + 100;

        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(records.AsSpan(0, next)).Kind);
        // Content type, version major and minor, a length too long, a length of zero.
        foreach (var (offset, value) in new (int, byte)[] { (0, 23), (1, 2), (2, 5), (3, 0xFF), (4, 0) })
        {
            var broken = (byte[])records.Clone();
            broken[next + offset] = value;

            Assert.True(
                EarlyDataClassifier.Classify(broken).Kind == EarlyDataKind.Unknown,
                $"second record header byte {offset} set to {value}");

            // Cut inside that header, only the bytes up to the broken one count.
            Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(broken.AsSpan(0, next + offset)).Kind);
        }
    }

    [Theory]
    [InlineData(new byte[] { 23, 3, 3, 0, 20 })]      // 0-RTT application data
    [InlineData(new byte[] { 20, 3, 3, 0, 1, 1 })]    // change_cipher_spec for middlebox compatibility
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ' })]
    public void Bytes_after_a_complete_client_hello_are_not_inspected(byte[] after)
    {
        byte[] data = [.. ClientHelloCorpus.Read("sslstream-tls13.bin"), .. after];

        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(data).Kind);
    }

    [Fact]
    public void SSLv2_compatible_hello_is_Unknown()
    {
        // The pre-TLS record format (high bit set, 2-byte length, type 1): no client in use sends it.
        byte[] hello = [0x80, 0x2E, 1, 3, 1, 0, 0x15, 0, 0, 0, 0x10];

        Assert.Equal(EarlyDataKind.Unknown, EarlyDataClassifier.Classify(hello).Kind);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task This_platforms_SslStream_hello_is_a_TlsClientHello(SslProtocols protocol)
    {
        // The captured files are one TLS stack's hellos; this checks the one the tests run on now.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();

        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, timeout.Token);
        using var tls = new SslStream(client.GetStream());
        var handshake = tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions { TargetHost = "example.test", EnabledSslProtocols = protocol },
            timeout.Token);

        // Reads the first record whole; it holds the ClientHello.
        var received = new byte[5 + TlsClientHello.MaxRecordLength];
        var total = 0;
        using (var server = await listener.AcceptAsync(timeout.Token))
        {
            while (total < 5 || total < 5 + ((received[3] << 8) | received[4]))
            {
                var read = await server.ReceiveAsync(received.AsMemory(total), timeout.Token);
                Assert.NotEqual(0, read);
                total += read;
            }
        }

        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        Assert.Equal(EarlyDataKind.TlsClientHello, EarlyDataClassifier.Classify(received.AsSpan(0, total)).Kind);
    }
}
