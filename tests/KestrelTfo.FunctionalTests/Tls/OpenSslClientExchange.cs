using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.OpenSsl.Client;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// One connection of the project's TLS client to <c>openssl s_server</c>, as a caller uses the client: its message
/// goes as early data when a session allows, and again after the handshake when the server did not take it; then the
/// server answers a line, and reading that line takes in the server's ticket.
/// </summary>
/// <param name="Handshake">What the handshake settled.</param>
/// <param name="Resent">Whether the message went after the handshake (the server did not take it as early data).</param>
/// <param name="SynDataAcknowledged">Whether the first flight rode in the SYN and the server's SYN-ACK acknowledged it.</param>
/// <param name="Released">Whether the connection's native handles were all freed once it was disposed.</param>
[SupportedOSPlatform("linux")]
internal sealed record OpenSslClientExchange(OpenSslClientHandshake Handshake, bool Resent, bool SynDataAcknowledged, bool Released)
{
    /// <summary>The name the client asks for; s_server serves its one certificate whatever the name.</summary>
    public const string HostName = "kestreltfo.test";

    /// <summary>A client that offers HTTP/1.1 by ALPN and trusts the test certificate alone.</summary>
    public static OpenSslClientContext NewContext() =>
        new([SslApplicationProtocol.Http11], (_, certificate, _) => TestCertificate.IsTheOne(certificate));

    public static async Task<OpenSslClientExchange> RunAsync(
        OpenSslClientContext context, OpenSslServerTool server, string message, CancellationToken cancellationToken, bool fastOpen = false)
    {
        var socket = new Socket(server.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (fastOpen)
        {
            FastOpenConnect.Set(socket, enabled: true);
        }

        var connection = OpenSslClientConnection.Create(context, socket, server.EndPoint, HostName);
        OpenSslClientExchange exchange;
        using (connection)
        {
            var handshake = await connection.HandshakeAsync(Encoding.ASCII.GetBytes($"{message}\n"), cancellationToken);
            var synData = TcpConnectionInfo.Read(socket).ReceivedSynData;
            var resent = await connection.SendEarlyDataUnlessAcceptedAsync(cancellationToken);
            Assert.True(await server.PrintedAsync(message, cancellationToken), server.Output);

            await server.SendAsync("pong", cancellationToken);
            using var reader = new StreamReader(connection, Encoding.ASCII);
            Assert.Equal("pong", await reader.ReadLineAsync(cancellationToken));
            exchange = new OpenSslClientExchange(handshake, resent, synData, Released: false);
        }

        return exchange with { Released = connection.IsReleased };
    }
}
