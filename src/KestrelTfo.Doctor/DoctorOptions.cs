using System.Net;

namespace KestrelTfo.Doctor;

/// <summary>What the doctor was asked to do.</summary>
/// <param name="Json">Print the report as JSON.</param>
/// <param name="Check">A running server to check instead of the loopback self-test.</param>
/// <param name="Timeout">How long each connection step may take.</param>
/// <param name="Connections">With <see cref="Check"/>: how many connections after the cookie connection.</param>
/// <param name="SelfTestAddress">
/// The loopback address of the self-test's listener; by default a random 127.x address. Tests hand it one from their own
/// allocator, so that it meets no other test's address or cookie.
/// </param>
internal sealed record DoctorOptions(bool Json, CheckTarget? Check, TimeSpan Timeout, int Connections = 1, IPAddress? SelfTestAddress = null)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public const int MaxConnections = 10_000;
}
