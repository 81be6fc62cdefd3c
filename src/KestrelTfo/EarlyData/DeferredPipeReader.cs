using System.Buffers;
using System.IO.Pipelines;

namespace KestrelTfo.EarlyData;

/// <summary>
/// Holds reads back until the connection's handshake has completed, then steps aside. If the handshake never
/// completes, the reader ends as an empty, completed stream, so none of the buffered early data reaches the
/// application.
/// </summary>
/// <remarks>
/// A result this reader makes up (a held read that was cancelled, or the empty end after a failed handshake) holds a
/// buffer the inner pipe never gave out. Its reader advances past it like any other, so <see cref="AdvanceTo(SequencePosition, SequencePosition)"/>
/// after a made-up result stays here: the inner pipe would throw on the foreign positions.
/// </remarks>
internal sealed class DeferredPipeReader(PipeReader inner, Task<bool> handshakeCompleted) : PipeReader
{
    private readonly Lock _sync = new();
    private TaskCompletionSource? _cancelPendingRead;
    private volatile bool _released;
    private bool _lastResultMadeUp;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_released)
        {
            _lastResultMadeUp = false;
            return inner.ReadAsync(cancellationToken);
        }

        return ReadAfterHandshakeAsync(cancellationToken);
    }

    private async ValueTask<ReadResult> ReadAfterHandshakeAsync(CancellationToken cancellationToken)
    {
        Task canceled;
        lock (_sync)
        {
            _cancelPendingRead ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            canceled = _cancelPendingRead.Task;
        }

        var first = await Task.WhenAny(handshakeCompleted, canceled).WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            // Decided under the lock, so that a CancelPendingRead goes either to this held read or, once released,
            // to the inner reader: never to both, and never lost between them.
            if (first == canceled || canceled.IsCompleted)
            {
                _cancelPendingRead = null;
                _lastResultMadeUp = true;
                return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: true, isCompleted: false);
            }

            if (!handshakeCompleted.Result)
            {
                _lastResultMadeUp = true;
                return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
            }

            _released = true;
        }

        _lastResultMadeUp = false;
        return await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!_released)
        {
            lock (_sync)
            {
                if (!handshakeCompleted.IsCompletedSuccessfully || !handshakeCompleted.Result)
                {
                    result = default;
                    return false;
                }

                _released = true;
            }
        }

        _lastResultMadeUp = false;
        return inner.TryRead(out result);
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        if (!ConsumeMadeUpResult())
        {
            inner.AdvanceTo(consumed);
        }
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!ConsumeMadeUpResult())
        {
            inner.AdvanceTo(consumed, examined);
        }
    }

    public override void CancelPendingRead()
    {
        lock (_sync)
        {
            if (!_released)
            {
                // Kestrel cancels the pending read to stop an idle connection at shutdown; a held read must end too.
                (_cancelPendingRead ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                return;
            }
        }

        inner.CancelPendingRead();
    }

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    // A reader reads and advances in turn, never both at once, so the flag needs no lock.
    private bool ConsumeMadeUpResult()
    {
        var madeUp = _lastResultMadeUp;
        _lastResultMadeUp = false;
        return madeUp;
    }
}
