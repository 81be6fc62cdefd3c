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

    public FastOpenConnectMethod Method { get; } = method;

    /// <summary>
    /// Connects to the first address that answers and sends <paramref name="firstWrite"/> on it. The socket returned
    /// is established (the server answered the SYN), so it can be read, written and asked for its endpoints.
    /// </summary>
    public async Task<Socket> ConnectAsync(IReadOnlyList<IPAddress> addresses, int port, ReadOnlyMemory<byte> firstWrite, CancellationToken cancellationToken)
    {
        var kind = FirstWrite.Classify(firstWrite.Span);
        var fastOpen = Method != FastOpenConnectMethod.None &&
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
                // With a cookie cached, connect returns at once and the SYN leaves with the data; without one, the
                // kernel does a normal handshake that asks for a cookie, and the data follows it.
                await ConnectAndSendAsync(socket, endPoint, data, cancellationToken).ConfigureAwait(false);

                // A send on a socket still in SYN-SENT waits for the handshake, and a refused or unreachable server
                // surfaces here rather than at the caller's first read. Nothing is lost: the server's answer cannot
                // arrive before its SYN-ACK.
                await socket.SendAsync(ReadOnlyMemory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ConnectWithDataAsync(socket, endPoint, data, cancellationToken).ConfigureAwait(false);
            }

            FastOpenClientLog.FastOpenConnected(logger, endPoint, kind, FastOpenClientSocket.ReadOutcome(socket));
            return socket;
        }
        catch (SocketException e) when (IsRefusedOption(e.SocketErrorCode) && !cancellationToken.IsCancellationRequested)
        {
            // The platform took the option but not the connect that uses it: connect the ordinary way.
            socket.Dispose();
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
    private async Task<Socket> RaceAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> data, FirstWriteKind kind, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var fastOpenCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var normalCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var fastOpen = OpenFastOpenAsync(endPoint, data, kind, fastOpenCts.Token);

        var delayTask = Task.Delay(delay, cancellationToken);
        if (await Task.WhenAny(fastOpen, delayTask).ConfigureAwait(false) == fastOpen || cancellationToken.IsCancellationRequested)
        {
            return await fastOpen.ConfigureAwait(false);
        }

        FastOpenClientLog.FallbackRaceStarted(logger, endPoint, delay.TotalMilliseconds);
        var normal = OpenNormallyAsync(endPoint, data, normalCts.Token);

        var first = await Task.WhenAny(fastOpen, normal).ConfigureAwait(false);
        var second = first == fastOpen ? normal : fastOpen;
        if (first.IsCompletedSuccessfully)
        {
            await (first == fastOpen ? normalCts : fastOpenCts).CancelAsync().ConfigureAwait(false);
            DisposeWhenDone(second);
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
        await SendAllAsync(socket, data, cancellationToken).ConfigureAwait(false);
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

        await SendAllAsync(socket, data[args.BytesTransferred..], cancellationToken).ConfigureAwait(false);
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

    private static void DisposeWhenDone(Task<Socket> loser) =>
        loser.ContinueWith(
            static task =>
            {
                if (task.IsCompletedSuccessfully)
                {
                    task.Result.Dispose();
                }
                else
                {
                    _ = task.Exception;
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private void ReportUnavailable(string problem, string fix)
    {
        if (Interlocked.Exchange(ref _unavailableLogged, 1) == 0)
        {
            FastOpenClientLog.FastOpenUnavailable(logger, problem, fix);
        }
    }
}
