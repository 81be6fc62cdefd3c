using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.Metrics;

/// <summary>
/// A listener's metric tags, made once when it binds, with the port already boxed, so that recording a
/// measurement allocates nothing.
/// </summary>
internal sealed class ListenerTags(IPEndPoint endPoint)
{
    public KeyValuePair<string, object?> Address { get; } = new("server.address", endPoint.Address.ToString());

    public KeyValuePair<string, object?> Port { get; } = new("server.port", endPoint.Port);

    public KeyValuePair<string, object?> NetworkType { get; } =
        new("network.type", endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
}
