namespace KestrelTfo.Testing;

/// <summary>
/// The real ClientHellos in TestData/ClientHellos (captured by eng/capture-client-hellos.sh), copied next to every test
/// project that uses them.
/// </summary>
internal static class ClientHelloCorpus
{
    public static readonly string[] Names =
    [
        "sslstream-tls12.bin",
        "sslstream-tls13.bin",
        "curl-tls12.bin",
        "curl-tls13.bin",
    ];

    public static TheoryData<string> TheoryNames => new(Names);

    public static byte[] Read(string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "ClientHellos", name));
}
