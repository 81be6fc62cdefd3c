using KestrelTfo.EarlyData;

namespace KestrelTfo.Tests.EarlyData;

public sealed class EarlyDataClassifierTests
{
    [Fact]
    public void No_early_data_is_None_and_replay_safe()
    {
        var result = EarlyDataClassifier.Classify([]);

        Assert.Equal(EarlyDataKind.None, result.Kind);
        Assert.True(result.IsReplaySafe);
        Assert.Null(result.HttpMethod);
        Assert.Equal(EarlyDataKind.None, default(EarlyDataClassification).Kind);
    }

    [Fact]
    public void Classifying_allocates_nothing()
    {
        byte[][] inputs =
        [
            ClientHelloCorpus.Read("curl-tls13.bin"),
            TlsRecords.Frame(TlsRecords.HandshakeMessage(ClientHelloCorpus.Read("sslstream-tls12.bin")), 3, 50),
            "GET / HTTP/1.1\r\n"u8.ToArray(),
            "PROPFIND / HTTP/1.1\r\n"u8.ToArray(),
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(),
            [22, 3, 1, 0xFF, 0xFF, 1],
            [0, 1, 2, 3],
            [],
        ];

        // Once first, so that type initialisers have run.
        var kinds = 0;
        foreach (var input in inputs)
        {
            kinds += (int)EarlyDataClassifier.Classify(input).Kind;
        }

        var fewest = Allocations.Fewest(() =>
        {
            for (var i = 0; i < 100_000; i++)
            {
                kinds += (int)EarlyDataClassifier.Classify(inputs[i % inputs.Length]).Kind;
            }
        });

        Assert.Equal(0, fewest);
        Assert.NotEqual(0, kinds);
    }
}
