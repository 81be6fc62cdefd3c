using System.Net;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>Early data for tests of the guard: real ClientHellos, and bytes an attacker could put in a SYN.</summary>
internal static class SynPayloads
{
    /// <summary>
    /// A handshake record whose type byte says client_hello, but whose message is 1 byte long: enough for the kernel's
    /// filter (which reads 6 bytes), not for the guard's classifier, so the guard defers it in the transport. A line end
    /// lets Kestrel judge it at once once it gets it.
    /// </summary>
    public static readonly byte[] NearClientHello = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00, (byte)'\r', (byte)'\n'];

    public static byte[] ClientHello(string file) => ClientHelloCorpus.Read(file);

    /// <summary>Loopback of each family: the guard and the kernel filter must behave the same on both.</summary>
    public static IPAddress LoopbackOf(string family) => family == "ipv6" ? Loopback.NextIPv6Address() : Loopback.NextAddress();
}
