using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// One HTTP/1.0 exchange over a fresh socket, optionally with <c>TCP_FASTOPEN_CONNECT</c>, so that once the kernel
/// holds a cookie for the server the request itself rides in the SYN. HTTP/1.0 keeps the answer unchunked and
/// closes the connection, so the response is everything read until the server closes. The response records the time
/// from opening the connection to its first byte.
/// </summary>
internal static class RawHttp
{

    public static byte[] Request(string path) => Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: test\r\n\r\n");

    public static byte[] Post(string path) =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.0\r\nHost: test\r\nContent-Length: 11\r\n\r\namount=1000");

    /// <summary>
    /// <c>TCP_FASTOPEN_CONNECT</c>: connect fetches a cookie when the kernel has none for the server, and
    /// otherwise returns at once, so that the first write goes out in the SYN.
    /// </summary>
    public static void UseFastOpenConnect(Socket socket) => FastOpenSocket.UseFastOpenConnect(socket);

    /// <param name="createSocket">Makes the socket, for a client in another network namespace; by default a plain new one.</param>
    public static async Task<RawResponse> GetAsync(
        IPEndPoint server, string path, bool fastOpen, CancellationToken cancellationToken, Func<Socket>? createSocket = null)
    {
        var (response, firstByte) = await SendAsync(server, Request(path), fastOpen, createSocket, reset: false, cancellationToken);
        return RawResponse.Parse(response) with { TimeToFirstByte = firstByte };
    }

    /// <summary>Sends <paramref name="request"/> as the first write and returns all that comes back, maybe nothing.</summary>
    /// <param name="reset">
    /// Close with a reset once the answer is read, so that neither end keeps the connection in TIME_WAIT: a replayed
    /// SYN then finds the server with no trace of the connection, as after TIME_WAIT ends.
    /// </param>
    public static async Task<string> ExchangeAsync(
        IPEndPoint server, byte[] request, bool fastOpen, CancellationToken cancellationToken, Func<Socket>? createSocket = null, bool reset = false) =>
        (await SendAsync(server, request, fastOpen, createSocket, reset, cancellationToken)).Response;

    private static async Task<(string Response, TimeSpan TimeToFirstByte)> SendAsync(
        IPEndPoint server, byte[] request, bool fastOpen, Func<Socket>? createSocket, bool reset, CancellationToken cancellationToken)
    {
        var opened = Stopwatch.GetTimestamp();
        using var socket = createSocket?.Invoke() ?? new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (fastOpen)
        {
            UseFastOpenConnect(socket);
        }

        if (reset)
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
        }

        await socket.ConnectAsync(server, cancellationToken);
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);

        using var received = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        TimeSpan? firstByte = null;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
        {
            firstByte ??= Stopwatch.GetElapsedTime(opened);
            received.Write(buffer, 0, read);
        }

        return (Encoding.ASCII.GetString(received.ToArray()), firstByte ?? TimeSpan.Zero);
    }
}
