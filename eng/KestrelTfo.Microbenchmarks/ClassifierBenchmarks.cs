using BenchmarkDotNet.Attributes;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Microbenchmarks;

/// <summary>
/// <see cref="EarlyDataClassifier.Classify"/> alone on the first 256 bytes of real early data, as the listener
/// peeks them: ClientHellos captured from SslStream and curl (tests/KestrelTfo.Tests/TestData/ClientHellos) and
/// an HTTP/1.1 request.
/// </summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    private byte[] _data = [];

    [Params("sslstream-tls13", "curl-tls12", "http-get")]
    public string Input { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var bytes = Input == "http-get"
            ? "GET /api/orders?id=42 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"u8.ToArray()
            : File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "ClientHellos", Input + ".bin"));
        _data = bytes[..Math.Min(bytes.Length, 256)];
    }

    [Benchmark]
    public EarlyDataKind Classify() => EarlyDataClassifier.Classify(_data).Kind;
}
