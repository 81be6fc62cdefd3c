using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Opens a connection with its first bytes: in the SYN when they are safe to replay and the platform can, otherwise
/// after a normal handshake. Tries the addresses in order, like SocketsHttpHandler's own connect.
/// </summary>
internal sealed class FastOpenDialer(FastOpenConnectOptions options, ILogger logger, FastOpenConnectMethod method)
{
    private int _unavailableLogged;
    private int _fallbackWonLogged;

    // Set once a platform took the socket option but refused the connect that uses it: from then on every connection
    // opens normally rather than try and reconnect each time.
    private int _connectWithDataRefused;

    public FastOpenConnectMethod Method { get; } = method;

    /// <summary>
    /// Connects to the first address that answers and sends <paramref name="firstWrite"/> on it. The socket returned
    /// is established (the server answered the SYN), so it can be read, written and asked for its endpoints.
    /// </summary>
    /// <remarks>
    /// Only a failed connect moves on to the next address. Once a connection is established, part of the data may
    /// have reached the server, so a failure to send the rest is an <see cref="IOException"/> and nothing is sent
    /// again, as SocketsHttpHandler never retries a connection that was established.
    /// </remarks>
    public async Task<Socket> ConnectAsync(IReadOnlyList<IPAddress> addresses, int port, ReadOnlyMemory<byte> firstWrite, CancellationToken cancellationToken)
    {
        var kind = FirstWrite.Classify(firstWrite.Span);
        var fastOpen = Method != FastOpenConnectMethod.None && Volatile.Read(ref _connectWithDataRefused) == 0 &&
            (kind == FirstWriteKind.TlsClientHello || (kind == FirstWriteKind.SafeRequest && options.SafePlaintextRequests));

        SocketException? lastError = null;
        for (var i = 0; i < addresses.Count; i++)
        {
            var endPoint = new IPEndPoint(addresses[i], port);
            try
            {
                if (!fastOpen)
                {
                    var socket = await OpenNormallyAsync(endPoint, firstWrite, cancellationToken).ConfigureAwait(false);
                    FastOpenClientLog.ConnectedNormally(logger, endPoint, kind);
                    return socket;
                }

                return options.FallbackDelay is { } delay
                    ? await RaceAsync(endPoint, firstWrite, kind, delay, cancellationToken).ConfigureAwait(false)
                    : await OpenFastOpenAsync(endPoint, firstWrite, kind, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = e;
                FastOpenClientLog.ConnectAttemptFailed(logger, endPoint, e.SocketErrorCode, addresses.Count - i - 1);
            }
        }

        throw lastError ?? new SocketException((int)SocketError.HostNotFound);
    }

    private async Task<Socket> OpenFastOpenAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> data, FirstWriteKind kind, CancellationToken cancellationToken)
    {
        var socket = CreateSocket(endPoint);
        try
        {
            if (!FastOpenClientSocket.TryEnable(socket, Method, out var problem, out var fix))
            {
                ReportUnavailable(problem, fix);
                await ConnectAndSendAsync(socket, endPoint, data, cancellationToken).ConfigureAwait(false);
                FastOpenClientLog.ConnectedNormally(logger, endPoint, kind);
                return socket;
            }

            if (Method == FastOpenConnectMethod.FastOpenConnectOption)
            {
                // connect only marks the socket: the first send starts the handshake, with the data in the SYN when a
                // cookie is cached, or asking for one otherwise, and the data follows the handshake.
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);

                await SendInSynAsync(socket, data, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ConnectWithDataAsync(socket, endPoint, data, cancellationToken).ConfigureAwait(false);
            }

            if (logger.IsEnabled(LogLevel.Debug))
            {
                // TCP_INFO only feeds this message: no getsockopt per connection when nobody reads it.
                FastOpenClientLog.FastOpenConnected(logger, endPoint, kind, FastOpenClientSocket.ReadOutcome(socket));
            }

            return socket;
        }
        catch (SocketException e) when (IsRefusedOption(e.SocketErrorCode) && !cancellationToken.IsCancellationRequested)
        {
            // The platform took the option but not the connect that uses it: connect the ordinary way.
            socket.Dispose();
            Volatile.Write(ref _connectWithDataRefused, 1);
            ReportUnavailable($"connecting with data failed ({e.SocketErrorCode}: {e.Message})", "nothing; connections open normally");
            var fallback = await OpenNormallyAsync(endPoint, data, cancellationToken).ConfigureAwait(false);
            FastOpenClientLog.ConnectedNormally(logger, endPoint, kind);
            return fallback;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Happy eyeballs between the SYN with data and, after <paramref name="delay"/>, a plain SYN: whichever connection
    /// is established first is kept and the other closed. Only replay-safe data takes this path, so the server seeing
    /// it on both connections does no harm.
    /// </summary>
    /// <remarks>
    /// The caller's buffer is pooled memory (SslStream's, HttpConnection's), which it reuses as soon as its write
    /// returns; both attempts send from a private copy (a ClientHello is a few KB), and the loser is over, its socket
    /// closed, before this returns.
    /// </remarks>
    private async Task<Socket> RaceAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> callersData, FirstWriteKind kind, TimeSpan delay, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> data = callersData.ToArray();
        using var fastOpenCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var normalCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var fastOpen = OpenFastOpenAsync(endPoint, data, kind, fastOpenCts.Token);

        using (var delayCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var delayTask = Task.Delay(delay, delayCts.Token);
            var fastOpenFirst = await Task.WhenAny(fastOpen, delayTask).ConfigureAwait(false) == fastOpen;

            // Frees the timer at once when the SYN with data was answered in time, the usual case.
            await delayCts.CancelAsync().ConfigureAwait(false);
            if (fastOpenFirst || cancellationToken.IsCancellationRequested)
            {
                return await fastOpen.ConfigureAwait(false);
            }
        }

        FastOpenClientLog.FallbackRaceStarted(logger, endPoint, delay.TotalMilliseconds);
        var normal = OpenNormallyAsync(endPoint, data, normalCts.Token);

        var first = await Task.WhenAny(fastOpen, normal).ConfigureAwait(false);
        var second = first == fastOpen ? normal : fastOpen;
        if (first.IsCompletedSuccessfully)
        {
            await (first == fastOpen ? normalCts : fastOpenCts).CancelAsync().ConfigureAwait(false);
            await CloseLoserAsync(second).ConfigureAwait(false);
            return Won(first);
        }

        // The first to finish failed: the other one decides.
        _ = first.Exception;
        await second.ConfigureAwait(false);
        return Won(second);

        Socket Won(Task<Socket> winner)
        {
            if (winner == normal)
            {
                var level = Interlocked.Exchange(ref _fallbackWonLogged, 1) == 0 ? LogLevel.Information : LogLevel.Debug;
                FastOpenClientLog.FallbackRaceWon(logger, level, endPoint);
            }

            return winner.Result;
        }
    }

    private async Task<Socket> OpenNormallyAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var socket = CreateSocket(endPoint);
        try
        {
            await ConnectAndSendAsync(socket, endPoint, data, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task ConnectAndSendAsync(Socket socket, IPEndPoint endPoint, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        await SendEstablishedAsync(socket, data, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The sends of a <c>TCP_FASTOPEN_CONNECT</c> socket, which start the handshake: an error that means the server never
    /// answered the SYN is a connect error (another address may be tried), any other came after the handshake.
    /// </summary>
    private static async Task SendInSynAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await SendAllAsync(socket, data, cancellationToken).ConfigureAwait(false);

            // A send on a socket still in SYN-SENT waits for the handshake, and a refused or unreachable server
            // surfaces here rather than at the caller's first read. Nothing is lost: the server's answer cannot
            // arrive before its SYN-ACK.
            await socket.SendAsync(ReadOnlyMemory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (!IsHandshakeFailure(e.SocketErrorCode) && !IsRefusedOption(e.SocketErrorCode) && e.SocketErrorCode != SocketError.OperationAborted)
        {
            throw SentAfterConnect(e);
        }
    }

    /// <summary>Sends on an established connection: a failure is no connect error, and must not be retried elsewhere.</summary>
    private static async Task SendEstablishedAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await SendAllAsync(socket, data, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.OperationAborted)
        {
            throw SentAfterConnect(e);
        }
    }

    /// <summary>
    /// .NET's connect with a buffer: on a socket with <c>TCP_FASTOPEN</c> set it uses <c>connectx</c> (macOS) or
    /// <c>ConnectEx</c> (Windows) with the data, and completes once the connection is established.
    /// </summary>
    private static async Task ConnectWithDataAsync(Socket socket, IPEndPoint endPoint, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var args = new SocketAsyncEventArgs { RemoteEndPoint = endPoint };
        args.SetBuffer(MemoryMarshal.AsMemory(data));
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        args.Completed += (_, _) => completed.TrySetResult();

        await using (cancellationToken.UnsafeRegister(static state => Socket.CancelConnectAsync((SocketAsyncEventArgs)state!), args).ConfigureAwait(false))
        {
            if (!socket.ConnectAsync(args))
            {
                completed.TrySetResult();
            }

            await completed.Task.ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (args.SocketError != SocketError.Success)
        {
            throw new SocketException((int)args.SocketError);
        }

        await SendEstablishedAsync(socket, data[args.BytesTransferred..], cancellationToken).ConfigureAwait(false);
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private Socket CreateSocket(IPEndPoint endPoint)
    {
        var socket = options.CreateSocket?.Invoke(endPoint) ?? new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

        // As SocketsHttpHandler's own sockets: Nagle off, so a request is not held back waiting for an ACK.
        socket.NoDelay = true;
        return socket;
    }

    private static bool IsRefusedOption(SocketError error) =>
        error is SocketError.OperationNotSupported or SocketError.ProtocolOption or SocketError.ProtocolNotSupported or SocketError.InvalidArgument;

    // ECONNRESET is not among them: a reset in SYN-SENT is reported as ECONNREFUSED, so a reset came after the handshake.
    private static bool IsHandshakeFailure(SocketError error) =>
        error is SocketError.ConnectionRefused or SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable
            or SocketError.HostDown or SocketError.NetworkDown or SocketError.AddressNotAvailable;

    private static IOException SentAfterConnect(SocketException error) =>
        new($"The connection was established, but sending its first bytes failed ({error.SocketErrorCode}: {error.Message}); they are not sent again elsewhere.", error);

    /// <summary>
    /// Waits for the canceled attempt to end, so that nothing sends from the data once the caller has its socket, and
    /// closes the socket it may still have established.
    /// </summary>
    private static async Task CloseLoserAsync(Task<Socket> loser)
    {
        try
        {
            (await loser.ConfigureAwait(false)).Dispose();
        }
        catch (Exception)
        {
            // The usual end of a canceled attempt; its socket is closed already.
        }
    }

    private void ReportUnavailable(string problem, string fix)
    {
        if (Interlocked.Exchange(ref _unavailableLogged, 1) == 0)
        {
            FastOpenClientLog.FastOpenUnavailable(logger, problem, fix);
        }
    }
}
