using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.LatencyBenchmark;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>What one raw exchange saw.</summary>
/// <param name="Response">Everything read until the server closed; empty when it reset the connection.</param>
/// <param name="TimeToFirstByte">From opening the connection to the response's first byte.</param>
/// <param name="SynDataAcknowledged">The client's <c>TCP_INFO</c>: the server acknowledged the data in the SYN.</param>
/// <param name="Reset">The server reset the connection (only when the caller tolerates it).</param>
/// <param name="Timing">When the connection opened and its first response byte came, and its client port: what finds
/// the connection's segments in an emulated link's trace.</param>
internal sealed record RawExchange(string Response, TimeSpan TimeToFirstByte, bool SynDataAcknowledged, bool Reset, FirstByteTiming Timing);

/// <summary>
/// One exchange over a fresh socket, optionally with <c>TCP_FASTOPEN_CONNECT</c>, so that once the kernel holds a cookie
/// for the server the first write rides in the SYN. Requests are HTTP/1.0, which keeps the answer unchunked and closes
/// the connection, so the response is everything read until the server closes.
/// </summary>
internal static class RawHttp
{
    public static byte[] Request(string path) => Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: test\r\n\r\n");

    public static byte[] Post(string path) =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.0\r\nHost: test\r\nContent-Length: 11\r\n\r\namount=1000");

    /// <summary>A GET of <paramref name="path"/>, parsed.</summary>
    public static async Task<RawResponse> GetAsync(
        IPEndPoint server, string path, bool fastOpen, CancellationToken cancellationToken, Func<Socket>? createSocket = null)
    {
        var exchange = await SendAsync(server, Request(path), cancellationToken, fastOpen, createSocket);
        return RawResponse.Parse(exchange.Response) with { TimeToFirstByte = exchange.TimeToFirstByte };
    }

    /// <summary>Sends <paramref name="request"/> as the first write and returns all that comes back.</summary>
    public static async Task<string> ExchangeAsync(
        IPEndPoint server, byte[] request, bool fastOpen, CancellationToken cancellationToken, Func<Socket>? createSocket = null, bool reset = false) =>
        (await SendAsync(server, request, cancellationToken, fastOpen, createSocket, reset)).Response;

    /// <summary>The one exchange every other method here makes.</summary>
    /// <param name="server">Where to connect.</param>
    /// <param name="request">The first write.</param>
    /// <param name="cancellationToken">Bounds the exchange.</param>
    /// <param name="fastOpen">Whether the socket has <c>TCP_FASTOPEN_CONNECT</c>.</param>
    /// <param name="createSocket">Makes the socket, for a client in another network namespace; by default a plain new one.</param>
    /// <param name="reset">
    /// Close with a reset once the answer is read, so that neither end keeps the connection in TIME_WAIT: a replayed SYN
    /// then finds the server with no trace of the connection, as after TIME_WAIT ends.
    /// </param>
    /// <param name="tolerateReset">A reset by the server ends the exchange (<see cref="RawExchange.Reset"/>) instead of throwing.</param>
    public static async Task<RawExchange> SendAsync(
        IPEndPoint server,
        byte[] request,
        CancellationToken cancellationToken,
        bool fastOpen = true,
        Func<Socket>? createSocket = null,
        bool reset = false,
        bool tolerateReset = false)
    {
        var opened = Stopwatch.GetTimestamp();
        using var socket = createSocket?.Invoke() ?? new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        FastOpenConnect.Set(socket, fastOpen);
        if (reset)
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
        }

        using var received = new MemoryStream();
        TimeSpan? firstByte = null;
        long firstByteAt = 0;
        var clientPort = 0;
        var synDataAcknowledged = false;
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
            await socket.SendAsync(request, SocketFlags.None, cancellationToken);
            clientPort = ((IPEndPoint)socket.LocalEndPoint!).Port;

            var buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
            {
                if (firstByte is null)
                {
                    firstByteAt = Stopwatch.GetTimestamp();
                    firstByte = Stopwatch.GetElapsedTime(opened, firstByteAt);

                    // The server has answered, so the handshake is over and TCP_INFO knows what became of the SYN's data.
                    synDataAcknowledged = TcpConnectionInfo.Read(socket).ReceivedSynData;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException e) when (tolerateReset && e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return new RawExchange(Encoding.ASCII.GetString(received.ToArray()), firstByte ?? TimeSpan.Zero, synDataAcknowledged, Reset: true, new(opened, firstByteAt, clientPort));
        }

        return new RawExchange(Encoding.ASCII.GetString(received.ToArray()), firstByte ?? TimeSpan.Zero, synDataAcknowledged, Reset: false, new(opened, firstByteAt, clientPort));
    }
}
