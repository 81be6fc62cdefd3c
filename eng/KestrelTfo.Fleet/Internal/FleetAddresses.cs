using System.Net;

namespace KestrelTfo.Fleet.Internal;

/// <summary>
/// The fleet's addresses, all in 198.18.0.0/15 (RFC 2544, for benchmarking: never routed on the internet). Each link is
/// its own /24: the client's is 198.18.1.0, instance N's is 198.18.(10+N).0; the router is .1 on every link. The
/// service address the client connects to is 198.19.0.1.
/// </summary>
internal static class FleetAddresses
{
    public const int MaxInstances = 200;

    public static readonly IPAddress Service = IPAddress.Parse("198.19.0.1");

    public static readonly IPAddress Client = IPAddress.Parse("198.18.1.2");

    public static readonly IPAddress ClientGateway = IPAddress.Parse("198.18.1.1");

    public static IPAddress Instance(int index) => IPAddress.Parse($"198.18.{10 + index}.2");

    public static IPAddress InstanceGateway(int index) => IPAddress.Parse($"198.18.{10 + index}.1");
}
