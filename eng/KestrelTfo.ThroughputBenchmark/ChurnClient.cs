using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.ThroughputBenchmark;

/// <summary>
/// A load client that wrk cannot be: a new connection per request, optionally with <c>TCP_FASTOPEN_CONNECT</c>, so
/// that once the first connection has fetched the server's cookie every request rides in its SYN. Loops run
/// concurrently for a fixed time; each sends <c>GET / HTTP/1.1</c> with <c>Connection: close</c> and reads until the
/// server closes.
/// </summary>
internal sealed class ChurnClient
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"u8.ToArray();

    private readonly IPEndPoint _server;
    private readonly bool _fastOpen;

    public ChurnClient(IPEndPoint server, bool fastOpen)
    {
        _server = server;
        _fastOpen = fastOpen;
    }

    /// <summary>Runs <paramref name="concurrency"/> loops for <paramref name="duration"/>.</summary>
    /// <returns>Requests answered with a 200, failed connections, and the seconds actually measured.</returns>
    public async Task<(long Requests, long Errors, double Seconds)> RunAsync(int concurrency, TimeSpan duration)
    {
        long requests = 0, errors = 0;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[1024];
            while (Stopwatch.GetTimestamp() < deadline)
            {
                if (await RequestAsync(buffer).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref requests);
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(loops).ConfigureAwait(false);
        return (requests, errors, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task<bool> RequestAsync(byte[] buffer)
    {
        using var socket = new Socket(_server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_fastOpen)
            {
                // connect() returns at once; the SYN leaves with the first write, carrying the request when a
                // cookie is cached for the server, and the kernel falls back to a plain handshake when not.
                FastOpenConnect.Set(socket, enabled: true);
            }

            await socket.ConnectAsync(_server).ConfigureAwait(false);
            await socket.SendAsync(Request, SocketFlags.None).ConfigureAwait(false);
            var received = 0;
            var ok = false;
            while (received < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                // "HTTP/1.1 200" is the first 12 bytes of a good answer.
                if (!ok && received < 12 && received + read >= 12)
                {
                    ok = buffer.AsSpan(0, 12).SequenceEqual("HTTP/1.1 200"u8);
                }

                received += read;
            }

            return ok;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
