using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// A connection that opens on its first write, so those bytes can ride in the SYN (or, over the client's own TLS, in
/// the early data behind the ClientHello). Until then there is no socket to ask anything, which is why this is not a
/// <see cref="NetworkStream"/>: SocketsHttpHandler asks a NetworkStream's socket for its remote endpoint, and an
/// unconnected socket throws ENOTCONN. Once connected, every call goes to the stream the opening returned, which owns
/// the socket.
/// </summary>
/// <param name="open">Opens the connection with its first write and returns its stream; its cancellation also ends it at the connect timeout.</param>
/// <param name="endPoint">The host and port, for errors.</param>
/// <param name="connectTimeout">How long the opening may take.</param>
/// <param name="time">The clock of the connect timeout.</param>
internal sealed class FastOpenStream(
    Func<ReadOnlyMemory<byte>, CancellationToken, Task<Stream>> open, DnsEndPoint endPoint, TimeSpan connectTimeout, TimeProvider time)
    : Stream
{
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposing = new();
    private Stream? _inner;
    private int _connectStarted;
    private int _disposed;

    public override bool CanRead => _disposed == 0;

    public override bool CanWrite => _disposed == 0;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _inner) is { } inner)
        {
            return inner.WriteAsync(buffer, cancellationToken);
        }

        return buffer.IsEmpty ? default : new ValueTask(FirstWriteAsync(buffer, cancellationToken));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Volatile.Read(ref _inner) is { } inner)
        {
            inner.Write(buffer);
        }
        else if (!buffer.IsEmpty)
        {
            // Only the first write of a synchronous caller (HttpClient.Send) blocks on the connect.
            FirstWriteAsync(buffer.ToArray(), CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _inner) is { } inner)
        {
            return inner.ReadAsync(buffer, cancellationToken);
        }

        return ReadAfterConnectAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        if (Volatile.Read(ref _inner) is null)
        {
            _connected.Task.GetAwaiter().GetResult();
        }

        return _inner!.Read(buffer);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush() => Volatile.Read(ref _inner)?.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _inner)?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Cancels a connect in progress, which closes its socket; a connected socket closes with its stream.
            _disposing.Cancel();
            Volatile.Read(ref _inner)?.Dispose();
            Fail(new ObjectDisposedException(nameof(FastOpenStream)));
        }

        base.Dispose(disposing);
    }

    private async Task FirstWriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _connectStarted, 1) != 0)
        {
            // Another write is opening the connection; this one goes after it.
            await _connected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            await _inner!.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var timeout = new CancellationTokenSource(connectTimeout, time);
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _disposing.Token);
        Stream inner;
        try
        {
            inner = await open(buffer, connect.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var error = MapConnectException(e, cancellationToken, timeout.Token);
            Fail(error);
            if (error == e)
            {
                throw;
            }

            throw error;
        }

        // A full fence, as Dispose's exchange of _disposed is: of this publish-then-check and Dispose's
        // set-then-read, at least one sees the other, so a socket published as Dispose runs is always closed.
        Interlocked.Exchange(ref _inner, inner);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Disposed while the connect finished: Dispose may have read no socket to close.
            inner.Dispose();
            throw new ObjectDisposedException(nameof(FastOpenStream));
        }

        _connected.TrySetResult();
    }

    private async ValueTask<int> ReadAfterConnectAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // For HTTP the client always speaks first, so a read before the first write waits for that write to open the
        // connection instead of opening it without data. A protocol where the server speaks first would wait for
        // ever: FastOpenConnector documents that it is for client-speaks-first protocols only.
        await _connected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _inner!.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Turns a failed connect into what SocketsHttpHandler's own connect reports: an <see cref="HttpRequestException"/>
    /// (ConnectionError) naming the host, a cancellation with the caller's token, or a connect timeout (a cancellation
    /// whose inner exception is a <see cref="TimeoutException"/>).
    /// </summary>
    private Exception MapConnectException(Exception error, CancellationToken cancellationToken, CancellationToken timeout)
    {
        if (error is OperationCanceledException or SocketException { SocketErrorCode: SocketError.OperationAborted } or ObjectDisposedException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return new TaskCanceledException("The operation was canceled.", error, cancellationToken);
            }

            if (Volatile.Read(ref _disposed) != 0)
            {
                return new ObjectDisposedException(nameof(FastOpenStream));
            }

            if (timeout.IsCancellationRequested)
            {
                return new TaskCanceledException(
                    "The operation was canceled.",
                    new TimeoutException($"A connection to {endPoint.Host}:{endPoint.Port} could not be established within the connect timeout of {connectTimeout.TotalSeconds} s.", error));
            }
        }

        return error is SocketException socketError
            ? new HttpRequestException(HttpRequestError.ConnectionError, $"{socketError.Message} ({endPoint.Host}:{endPoint.Port})", socketError)
            : error;
    }

    private void Fail(Exception error)
    {
        if (_connected.TrySetException(error))
        {
            // A reader may never come; the failure is the writer's to report.
            _ = _connected.Task.Exception;
        }
    }
}
