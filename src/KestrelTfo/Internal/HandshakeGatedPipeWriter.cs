using System.IO.Pipelines;

namespace KestrelTfo.Internal;

/// <summary>
/// Writes straight through, but completes the inner writer, which makes Kestrel's socket send loop close the socket, only
/// once the handshake has ended. A response still goes out at once; only its FIN waits for the client's ACK.
/// </summary>
/// <remarks>
/// A socket closed gracefully in SYN_RECV goes to FIN_WAIT1 and stays in the kernel's TCP Fast Open queue, with no file
/// descriptor left to bound it, until the kernel gives up resending its SYN-ACK (about two minutes): a client that sends
/// requests the server answers and closes at once, and never acknowledges, would fill the queue that way.
/// </remarks>
internal sealed class HandshakeGatedPipeWriter(PipeWriter inner, Task handshakeEnded) : PipeWriter
{
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override void Advance(int bytes) => inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(source, cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        if (handshakeEnded.IsCompleted)
        {
            inner.Complete(exception);
            return;
        }

        handshakeEnded.ContinueWith(
            static (_, state) =>
            {
                var (writer, exception) = ((PipeWriter, Exception?))state!;
                writer.Complete(exception);
            },
            (inner, exception),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        return default;
    }
}
