using System.Collections.Concurrent;

namespace KestrelTfo.TestApp;

/// <summary>
/// Records every run of the non-idempotent endpoint with what its connection's feature said, so a test can tell a
/// replayed request from none, and wait, bounded, for a run it expects.
/// </summary>
public sealed class RequestLedger
{
    private readonly ConcurrentQueue<FastOpenReport> _transfers = new();
    private readonly SemaphoreSlim _recorded = new(0);

    public IReadOnlyList<FastOpenReport> Transfers => [.. _transfers];

    public void RecordTransfer(FastOpenReport report)
    {
        _transfers.Enqueue(report);
        _recorded.Release();
    }

    /// <summary>Waits until at least <paramref name="count"/> runs are recorded; false when the timeout ends first.</summary>
    public async Task<bool> WaitForTransfersAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_transfers.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _recorded.WaitAsync(left, cancellationToken))
            {
                return _transfers.Count >= count;
            }
        }

        return true;
    }
}
