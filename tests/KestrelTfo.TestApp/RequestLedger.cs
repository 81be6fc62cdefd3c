using System.Collections.Concurrent;

namespace KestrelTfo.TestApp;

/// <summary>
/// Records every run of the non-idempotent endpoint with what its connection's feature said, so a test can tell a
/// replayed request from none, and wait, bounded, for a run it expects.
/// </summary>
public sealed class RequestLedger
{
    private readonly ConcurrentQueue<(FastOpenReport Report, bool PossibleReplay)> _transfers = new();
    private readonly SemaphoreSlim _recorded = new(0);
    private int _visits;

    public IReadOnlyList<FastOpenReport> Transfers => [.. _transfers.Select(t => t.Report)];

    /// <summary>How many times the safe endpoint, <c>/visit</c>, ran: a GET that a replay or a race could run twice.</summary>
    public int Visits => _visits;

    /// <summary>What <see cref="IFastOpenFeature.IsPossibleReplay"/> said while each run was handled.</summary>
    public IReadOnlyList<bool> PossibleReplays => [.. _transfers.Select(t => t.PossibleReplay)];

    public void RecordVisit() => Interlocked.Increment(ref _visits);

    public void RecordTransfer(FastOpenReport report, bool possibleReplay)
    {
        _transfers.Enqueue((report, possibleReplay));
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
