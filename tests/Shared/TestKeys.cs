namespace KestrelTfo.Testing;

/// <summary>
/// Cookie keys for tests, in the hex form the options take. Their bytes differ in every position, so that any reordering
/// of bytes or words makes another key; none is a secret.
/// </summary>
internal static class TestKeys
{
    public const string A = "000102030405060708090a0b0c0d0e0f";

    public const string B = "f0e0d0c0b0a090807060504030201000";

    public const string C = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

    /// <summary>A key as <c>net.ipv4.tcp_fastopen_key</c> prints one: four 32-bit words in hex, in host order.</summary>
    public const string KernelText = "00010203-04050607-08090a0b-0c0d0e0f";
}
