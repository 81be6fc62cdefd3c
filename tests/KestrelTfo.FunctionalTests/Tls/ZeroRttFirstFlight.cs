using System.Net;
using System.Net.Sockets;
using KestrelTfo.Doctor;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// What a 0-RTT client sends before it hears from the server (its ClientHello and its early data), captured as an
/// attacker on the path would, and sent again. The capture is a listener that answers nothing; it walks the TLS record
/// headers as the doctor's replay check does, so it ends exactly after the first application-data record (the early
/// data), with no wait on timing.
/// </summary>
internal static class ZeroRttFirstFlight
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(15);

    /// <summary>Starts a client (given where to connect) and returns its first flight; the client is stopped after.</summary>
    public static async Task<byte[]> CaptureAsync(Func<IPEndPoint, ChildProcess> startClient, CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        listener.Listen();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_limit);
        using var client = startClient((IPEndPoint)listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync(limit.Token);

        var flight = new List<byte>();
        var buffer = new byte[64 * 1024];
        while (TlsFlight.FirstFlightLength(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(flight)) == 0)
        {
            var read = await accepted.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
            if (read == 0)
            {
                throw new InvalidOperationException($"The client closed after {flight.Count} bytes, before any early data: {client.Output}");
            }

            flight.AddRange(buffer.AsSpan(0, read));
        }

        return [.. flight];
    }

    /// <summary>
    /// Sends <paramref name="flight"/> on a new connection to <paramref name="server"/> and reads the server's answer to
    /// it (its flight, whether or not it took the early data); then leaves, as an attacker without the client's keys must.
    /// </summary>
    public static async Task ReplayAsync(byte[] flight, IPEndPoint server, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_limit);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, limit.Token);
        await socket.SendAsync(flight, SocketFlags.None, limit.Token);
        var answer = await socket.ReceiveAsync(new byte[64 * 1024], SocketFlags.None, limit.Token);
        Assert.True(answer > 0, "the server sent nothing back to a replayed first flight");
    }
}
