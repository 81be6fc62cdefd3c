using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KestrelTfo.Platform;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Opens a connection with its first bytes: in the SYN when they are exactly one message safe to repeat and the platform
/// can, otherwise after a normal handshake. Tries the addresses in order, like SocketsHttpHandler's own connect.
/// </summary>
/// <param name="options">The connector's options, copied.</param>
/// <param name="logger">The connector's logger.</param>
/// <param name="method">How this platform puts data in a SYN.</param>
/// <param name="meter">The connector's instruments, or null for none.</param>
/// <param name="time">The clock of the race's delay and the connect timeout; the system's when null.</param>
internal sealed class FastOpenDialer(
    FastOpenConnectOptions options, ILogger logger, FastOpenConnectMethod method, FastOpenClientMeter? meter = null, TimeProvider? time = null)
{
    // Linux puts at most one page of a first write in the SYN (tcp_send_syn_data), after 40 bytes of room for options.
    private const int SynDataLimit = 4096;
    private const int SynOptionSpace = 40;

    private int _unavailableLogged;
    private int _fallbackWonLogged;

    // Set once a platform took the socket option but refused the connect that uses it: from then on every connection
    // opens normally rather than try and reconnect each time.
    private int _connectWithDataRefused;

    /// <summary>How a connection opened, before the kernel has been asked what became of its SYN.</summary>
    private enum Opening
    {
        /// <summary>Connected first, then wrote: the first write was not safe to repeat.</summary>
        NotSafe,

        /// <summary>Connected first, then wrote, although the first write was safe: no TCP Fast Open here, or a retry.</summary>
        Fallback,

        /// <summary>The first write went to the kernel for the SYN; the kernel knows what became of it.</summary>
        FastOpen,

        /// <summary>The racing connection without TCP Fast Open was established first, and took the first write.</summary>
        RaceWonByPlain,

        /// <summary>
        /// In a race, TCP Fast Open turned out unavailable: connected the ordinary way and wrote nothing, since only the
        /// race's winner may write.
        /// </summary>
        FallbackUnsent,
    }

    public FastOpenConnectMethod Method { get; } = method;

    /// <summary>The connector's logger.</summary>
    public ILogger Logger => logger;

    /// <summary>The connector's instruments, or null for none.</summary>
    public FastOpenClientMeter? Meter => meter;

    /// <summary>The clock of <see cref="FastOpenConnectOptions.FallbackDelay"/> and <see cref="FastOpenConnectOptions.ConnectTimeout"/>.</summary>
    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>
    /// Connects to the first address that answers and sends <paramref name="firstWrite"/> on it. The socket returned
    /// is established (the server answered the SYN), so it can be read, written and asked for its endpoints.
    /// </summary>
    /// <remarks>
    /// Only a failed connect moves on to the next address, and only the first address gets the bytes in its SYN: another
    /// address of the same host may be the same server, whose kernel may have taken the first SYN's data before its SYN-ACK
    /// was lost, and a server that debounces ClientHellos would take the same bytes in a second SYN for a replay. Sent
    /// after the handshake they are no SYN's data, so nothing debounces them. Once a connection is established, part of
    /// the data may have reached the server, so a failure to send the rest is an <see cref="IOException"/> and nothing is
    /// sent again, as SocketsHttpHandler never retries a connection that was established.
    /// </remarks>
    public async Task<Socket> ConnectAsync(IReadOnlyList<IPAddress> addresses, int port, ReadOnlyMemory<byte> firstWrite, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var kind = FirstWrite.Classify(firstWrite.Span);
        var safe = kind == FirstWriteKind.TlsClientHello || (kind == FirstWriteKind.SafeRequest && options.SafePlaintextRequests);

        SocketException? lastError = null;
        for (var i = 0; i < addresses.Count; i++)
        {
            var endPoint = new IPEndPoint(addresses[i], port);
            var fastOpen = safe && i == 0 && Method != FastOpenConnectMethod.None && Volatile.Read(ref _connectWithDataRefused) == 0;
            try
            {
                var (socket, opening) = !fastOpen ? (await OpenNormallyAsync(endPoint, firstWrite, cancellationToken).ConfigureAwait(false), safe ? Opening.Fallback : Opening.NotSafe)
                    : options.FallbackDelay is { } delay ? await RaceAsync(endPoint, firstWrite, delay, cancellationToken).ConfigureAwait(false)
                    : await OpenFastOpenAsync(endPoint, firstWrite, raced: false, cancellationToken).ConfigureAwait(false);
                Report(endPoint, socket, kind, opening, firstWrite.Length, Stopwatch.GetElapsedTime(started));
                return socket;
            }
            catch (SocketException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = e;
                FastOpenClientLog.ConnectAttemptFailed(logger, endPoint, e.SocketErrorCode, addresses.Count - i - 1);
            }
        }

        throw lastError ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <param name="endPoint">Where to connect.</param>
    /// <param name="data">The first write.</param>
    /// <param name="raced">Whether a plain connection may race this one, so that where TCP Fast Open turns out unavailable
    /// this one connects without writing (<see cref="Opening.FallbackUnsent"/>) and the race's winner writes.</param>
    /// <param name="cancellationToken">Ends the attempt.</param>
    private async Task<(Socket Socket, Opening Opening)> OpenFastOpenAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> data, bool raced, CancellationToken cancellationToken)
    {
        var socket = CreateSocket(endPoint);
        try
        {
            if (!FastOpenClientSocket.TryEnable(socket, Method, out var problem, out var fix))
            {
                ReportUnavailable(problem, fix);
                FastOpenClientSocket.EnsureNoDataInSyn(socket);
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                if (raced)
                {
                    return (socket, Opening.FallbackUnsent);
                }

                await SendEstablishedAsync(socket, data, cancellationToken).ConfigureAwait(false);
                return (socket, Opening.Fallback);
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

            return (socket, Opening.FastOpen);
        }
        catch (SocketException e) when (IsRefusedOption(e.SocketErrorCode) && !cancellationToken.IsCancellationRequested)
        {
            // The platform took the option but not the connect that uses it: connect the ordinary way.
            socket.Dispose();
            Volatile.Write(ref _connectWithDataRefused, 1);
            ReportUnavailable($"connecting with data failed ({e.SocketErrorCode}: {e.Message})", "nothing; connections open normally");
            return raced
                ? (await ConnectOnlyAsync(endPoint, cancellationToken).ConfigureAwait(false), Opening.FallbackUnsent)
                : (await OpenNormallyAsync(endPoint, data, cancellationToken).ConfigureAwait(false), Opening.Fallback);
        }
        catch
        {
            // A reset close drops whatever of the data the kernel still holds: an attempt that ends here sends nothing more.
            Abort(socket);
            throw;
        }
    }

    /// <summary>
    /// Happy eyeballs between the SYN with data and, after <paramref name="delay"/>, a plain connect: whichever connection
    /// is established first is kept and the other ended. The plain attempt writes nothing until it has won, and an
    /// attempt that lost is reset, which drops the data its kernel still holds, so the first write goes out on one
    /// connection only. The one case left, and only for data safe to repeat: a server that took the SYN's data but whose
    /// SYN-ACK came later than the plain connection's gets the first write on both.
    /// </summary>
    /// <remarks>
    /// The caller's buffer is pooled memory (SslStream's, HttpConnection's), which it reuses as soon as its write
    /// returns; both attempts send from a private copy (a ClientHello is a few KB), and the loser is over, its socket
    /// closed, before this returns.
    /// </remarks>
    private async Task<(Socket Socket, Opening Opening)> RaceAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> callersData, TimeSpan delay, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> data = callersData.ToArray();
        using var fastOpenCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var plainCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<(Socket Socket, Opening Opening)> fastOpen;
        using (var delayCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // The delay starts before the attempt's socket is made, so it covers all of the attempt.
            var delayTask = Task.Delay(delay, Time, delayCts.Token);
            fastOpen = OpenFastOpenAsync(endPoint, data, raced: true, fastOpenCts.Token);
            var fastOpenFirst = await Task.WhenAny(fastOpen, delayTask).ConfigureAwait(false) == fastOpen;

            // Frees the timer at once when the SYN with data was answered in time, the usual case.
            await delayCts.CancelAsync().ConfigureAwait(false);
            if (fastOpenFirst || cancellationToken.IsCancellationRequested)
            {
                return await WriteIfUnsentAsync(await fastOpen.ConfigureAwait(false), data, cancellationToken).ConfigureAwait(false);
            }
        }

        FastOpenClientLog.FallbackRaceStarted(logger, endPoint, delay.TotalMilliseconds);
        var plain = ConnectOnlyAsync(endPoint, plainCts.Token);
        var first = await Task.WhenAny(fastOpen, plain).ConfigureAwait(false);
        if (first == fastOpen && fastOpen.IsCompletedSuccessfully)
        {
            await plainCts.CancelAsync().ConfigureAwait(false);
            await EndLoserAsync(plain).ConfigureAwait(false);
            return await WriteIfUnsentAsync(fastOpen.Result, data, cancellationToken).ConfigureAwait(false);
        }

        if (first == plain && plain.IsCompletedSuccessfully)
        {
            await fastOpenCts.CancelAsync().ConfigureAwait(false);
            await EndLoserAsync(SocketOf(fastOpen)).ConfigureAwait(false);
        }
        else
        {
            // The first to finish failed: the other one decides.
            _ = first.Exception;
            if (first == plain)
            {
                return await WriteIfUnsentAsync(await fastOpen.ConfigureAwait(false), data, cancellationToken).ConfigureAwait(false);
            }
        }

        var socket = await plain.ConfigureAwait(false);
        try
        {
            await SendEstablishedAsync(socket, data, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var level = Interlocked.Exchange(ref _fallbackWonLogged, 1) == 0 ? LogLevel.Information : LogLevel.Debug;
        FastOpenClientLog.FallbackRaceWon(logger, level, endPoint);
        return (socket, Opening.RaceWonByPlain);
    }

    /// <summary>The race's winner, with the first write on it if the winner had not written it yet.</summary>
    private static async Task<(Socket Socket, Opening Opening)> WriteIfUnsentAsync((Socket Socket, Opening Opening) winner, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (winner.Opening != Opening.FallbackUnsent)
        {
            return winner;
        }

        try
        {
            await SendEstablishedAsync(winner.Socket, data, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            winner.Socket.Dispose();
            throw;
        }

        return (winner.Socket, Opening.Fallback);
    }

    private async Task<Socket> OpenNormallyAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var socket = await ConnectOnlyAsync(endPoint, cancellationToken).ConfigureAwait(false);
        try
        {
            await SendEstablishedAsync(socket, data, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A plain connect, whatever socket <see cref="FastOpenConnectOptions.CreateSocket"/> made: nothing rides in its SYN.</summary>
    private async Task<Socket> ConnectOnlyAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = CreateSocket(endPoint);
        try
        {
            FastOpenClientSocket.EnsureNoDataInSyn(socket);
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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

    /// <summary>
    /// A socket for the client's own TLS (Linux only), whose connect sends the first flight with <c>TCP_FASTOPEN_CONNECT</c>
    /// when <paramref name="fastOpen"/> allows and the kernel takes the option; otherwise nothing rides in its SYN.
    /// </summary>
    /// <param name="endPoint">Where it will connect.</param>
    /// <param name="fastOpen">Whether this attempt may carry data in its SYN: not a retry at a host's next address.</param>
    /// <param name="enabled">Whether the socket has TCP Fast Open on.</param>
    internal Socket CreateTlsSocket(IPEndPoint endPoint, bool fastOpen, out bool enabled)
    {
        var socket = CreateSocket(endPoint);
        try
        {
            enabled = false;
            if (fastOpen && Method == FastOpenConnectMethod.FastOpenConnectOption)
            {
                enabled = FastOpenClientSocket.TryEnable(socket, Method, out var problem, out var fix);
                if (!enabled)
                {
                    ReportUnavailable(problem, fix);
                }
            }

            if (!enabled)
            {
                FastOpenClientSocket.EnsureNoDataInSyn(socket);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Logs and records a connection of the client's own TLS, whose first write was its first flight.</summary>
    internal void ReportTls(IPEndPoint endPoint, Socket socket, bool fastOpen, int firstFlightLength, TimeSpan duration) =>
        Report(endPoint, socket, FirstWriteKind.TlsClientHello, fastOpen ? Opening.FastOpen : Opening.Fallback, firstFlightLength, duration);

    private Socket CreateSocket(IPEndPoint endPoint)
    {
        var socket = options.CreateSocket?.Invoke(endPoint) ?? new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

        // As SocketsHttpHandler's own sockets: Nagle off, so a request is not held back waiting for an ACK.
        socket.NoDelay = true;
        return socket;
    }

    /// <summary>Logs how the connection opened, and records it when anyone listens; asks the kernel only then.</summary>
    private void Report(IPEndPoint endPoint, Socket socket, FirstWriteKind kind, Opening opening, int firstWriteLength, TimeSpan duration)
    {
        var recording = meter?.Enabled == true;
        if (opening != Opening.FastOpen)
        {
            if (opening != Opening.RaceWonByPlain)
            {
                FastOpenClientLog.ConnectedNormally(logger, endPoint, kind);
            }

            if (recording)
            {
                var outcome = opening switch
                {
                    Opening.NotSafe => FastOpenClientOutcome.NotSafe,
                    Opening.RaceWonByPlain => FastOpenClientOutcome.RaceWonByPlain,
                    _ => FastOpenClientOutcome.Fallback,
                };
                meter!.ConnectionOpened(endPoint, outcome, synDataBytes: 0, duration);
            }

            return;
        }

        if (!recording && !logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }

        // TCP_INFO only for a listener or a Debug log: no getsockopt per connection when nobody reads the answer.
        var (verdict, pathMtu) = FastOpenClientSocket.ReadOutcome(socket);
        FastOpenClientLog.FastOpenConnected(logger, endPoint, kind, verdict);
        if (recording)
        {
            var synData = verdict is FastOpenOutcome.DataAccepted or FastOpenOutcome.DataNotAccepted or FastOpenOutcome.SynRetransmitted
                ? SynDataLength(firstWriteLength, pathMtu, endPoint.AddressFamily)
                : 0;
            var outcome = verdict switch
            {
                FastOpenOutcome.DataAccepted => FastOpenClientOutcome.SynDataAccepted,
                FastOpenOutcome.CookieRequested => FastOpenClientOutcome.CookieRequested,
                FastOpenOutcome.Unknown => FastOpenClientOutcome.Unknown,
                _ => FastOpenClientOutcome.Fallback,
            };
            meter!.ConnectionOpened(endPoint, outcome, synData, duration);
        }
    }

    // What of a first write the kernel put in the SYN: up to the path's MSS less the option space, and one page.
    private static int SynDataLength(int firstWriteLength, int pathMtu, AddressFamily family)
    {
        if (pathMtu <= 0)
        {
            return firstWriteLength;
        }

        var headers = (family == AddressFamily.InterNetworkV6 ? 40 : 20) + 20;
        return Math.Min(firstWriteLength, Math.Min(SynDataLimit, pathMtu - headers - SynOptionSpace));
    }

    private static bool IsRefusedOption(SocketError error) =>
        error is SocketError.OperationNotSupported or SocketError.ProtocolOption or SocketError.ProtocolNotSupported or SocketError.InvalidArgument;

    // ECONNRESET is not among them: a reset in SYN-SENT is reported as ECONNREFUSED, so a reset came after the handshake.
    private static bool IsHandshakeFailure(SocketError error) =>
        error is SocketError.ConnectionRefused or SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable
            or SocketError.HostDown or SocketError.NetworkDown or SocketError.AddressNotAvailable;

    private static IOException SentAfterConnect(SocketException error) =>
        new($"The connection was established, but sending its first bytes failed ({error.SocketErrorCode}: {error.Message}); they are not sent again elsewhere.", error);

    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed already: nothing of it is left to send.
        }

        socket.Dispose();
    }

    /// <summary>
    /// Waits for the cancelled attempt to end, so that nothing sends from the data once the caller has its socket, and
    /// resets the socket it may still have established.
    /// </summary>
    private static async Task EndLoserAsync(Task<Socket> loser)
    {
        try
        {
            Abort(await loser.ConfigureAwait(false));
        }
        catch (Exception)
        {
            // The usual end of a cancelled attempt; its socket is reset already.
        }
    }

    private static async Task<Socket> SocketOf(Task<(Socket Socket, Opening Opening)> attempt) => (await attempt.ConfigureAwait(false)).Socket;

    private void ReportUnavailable(string problem, string fix)
    {
        if (Interlocked.Exchange(ref _unavailableLogged, 1) == 0)
        {
            FastOpenClientLog.FastOpenUnavailable(logger, problem, fix);
        }
    }
}
