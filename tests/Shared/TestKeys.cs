namespace KestrelTfo.Testing;

/// <summary>
/// Cookie keys (16 bytes) and TLS ticket keys (32 bytes) for tests, in the hex form the options take. Their bytes differ
/// in every position, so that any reordering of bytes or words makes another key; none is a secret.
/// </summary>
internal static class TestKeys
{
    public const string A = "000102030405060708090a0b0c0d0e0f";

    public const string B = "f0e0d0c0b0a090807060504030201000";

    public const string C = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

    /// <summary>A key as <c>net.ipv4.tcp_fastopen_key</c> prints one: four 32-bit words in hex, in host order.</summary>
    public const string KernelText = "00010203-04050607-08090a0b-0c0d0e0f";

    public const string TicketA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    public const string TicketB = "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0";
}
