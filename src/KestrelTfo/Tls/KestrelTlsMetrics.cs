using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;

namespace KestrelTfo.Tls;

/// <summary>
/// Kestrel's TLS instruments, recorded by this layer: the same meter, names, units and descriptions, so a meter factory
/// hands back the instruments Kestrel itself records to, and dashboards built for Kestrel see these handshakes.
/// </summary>
internal sealed class KestrelTlsMetrics
{
    public const string MeterName = "Microsoft.AspNetCore.Server.Kestrel";

    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _active;

    public KestrelTlsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _duration = meter.CreateHistogram<double>("kestrel.tls_handshake.duration", unit: "s", description: "The duration of TLS handshakes on the server.");
        _active = meter.CreateUpDownCounter<long>("kestrel.active_tls_handshakes", description: "Number of TLS handshakes that are currently in progress on the server.");
    }

    /// <summary>Counts a handshake in; returns whether it was counted, for <see cref="HandshakeStop"/> to undo exactly that.</summary>
    public bool HandshakeStart(ConnectionContext connection)
    {
        if (!_active.Enabled)
        {
            return false;
        }

        var tags = ConnectionTags(connection);
        _active.Add(1, tags);
        return true;
    }

    public void HandshakeStop(ConnectionContext connection, bool counted, long startTimestamp, SslProtocols? protocol, Exception? exception)
    {
        if (!counted && !_duration.Enabled)
        {
            return;
        }

        var tags = ConnectionTags(connection);
        if (counted)
        {
            _active.Add(-1, tags);
        }

        if (protocol is { } version)
        {
            tags.Add("tls.protocol.version", ProtocolVersion(version));
        }

        if (exception is not null)
        {
            tags.Add("error.type", exception.GetType().FullName);
        }

        _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }

    /// <summary>The value of the <c>tls.protocol.version</c> tag.</summary>
    public static string ProtocolVersion(SslProtocols protocol) => protocol == SslProtocols.Tls13 ? "1.3" : "1.2";

    private static TagList ConnectionTags(ConnectionContext connection)
    {
        var tags = new TagList();
        if (connection.LocalEndPoint is IPEndPoint local)
        {
            tags.Add("server.address", local.Address.ToString());
            tags.Add("server.port", local.Port);
            tags.Add("network.type", local.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
            tags.Add("network.transport", "tcp");
        }

        return tags;
    }
}
