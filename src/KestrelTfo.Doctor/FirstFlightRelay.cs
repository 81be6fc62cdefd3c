using System.Net;
using System.Net.Sockets;

namespace KestrelTfo.Doctor;

/// <summary>
/// Stands between the doctor's TLS client and the server, as anyone on the path could, and keeps a copy of what each
/// side sent first: the client's first flight (its ClientHello and early data, what a replay sends again) and the
/// server's answer to it (whose first encrypted record says whether the early data was taken). The client gets one end
/// of a loopback connection; everything it sends reaches the server unchanged, and everything back reaches it.
/// </summary>
internal sealed class FirstFlightRelay : IAsyncDisposable
{
    // More than any first flight: a ClientHello, its early data (up to 16 KB of a ticket's usual allowance) and headers.
    private const int MaxKept = 64 * 1024;

    private readonly Socket _clientSide;
    private readonly Socket _ourSide;
    private readonly Socket _server;
    private readonly MemoryStream _clientFlight = new();
    private readonly MemoryStream _serverFlight = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _pumps;

    private FirstFlightRelay(Socket clientSide, Socket ourSide, Socket server)
    {
        _clientSide = clientSide;
        _ourSide = ourSide;
        _server = server;
    }

    /// <summary>The socket the doctor's client uses: connected, through the relay, to the server.</summary>
    public Socket ClientSocket => _clientSide;

    /// <summary>What the client has sent so far (the first 64 KB); its first flight is the start (<see cref="TlsFlight.FirstFlightLength"/>).</summary>
    public byte[] ClientFlight
    {
        get
        {
            lock (_clientFlight)
            {
                return _clientFlight.ToArray();
            }
        }
    }

    /// <summary>The first bytes the server sent back.</summary>
    public byte[] ServerFlight
    {
        get
        {
            lock (_serverFlight)
            {
                return _serverFlight.ToArray();
            }
        }
    }

    /// <summary>Connects to <paramref name="server"/> and makes the loopback pair the client talks over.</summary>
    public static async Task<FirstFlightRelay> StartAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var upstream = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var clientSide = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await upstream.ConnectAsync(server, cancellationToken);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var accepting = listener.AcceptAsync(cancellationToken);
            await clientSide.ConnectAsync(listener.LocalEndPoint!, cancellationToken);
            var ourSide = await accepting;
            ourSide.NoDelay = true;
            var relay = new FirstFlightRelay(clientSide, ourSide, upstream);
            relay._pumps = Task.WhenAll(relay.PumpAsync(ourSide, upstream, relay._clientFlight), relay.PumpAsync(upstream, ourSide, relay._serverFlight));
            return relay;
        }
        catch
        {
            upstream.Dispose();
            clientSide.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _clientSide.Dispose();
        _ourSide.Dispose();
        _server.Dispose();
        if (_pumps is not null)
        {
            await _pumps;
        }

        _stop.Dispose();
    }

    private async Task PumpAsync(Socket from, Socket to, MemoryStream kept)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                lock (kept)
                {
                    if (kept.Length < MaxKept)
                    {
                        kept.Write(buffer, 0, Math.Min(read, MaxKept - (int)kept.Length));
                    }
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side went, or the check is over: the relay has nothing more to carry.
        }
    }
}
