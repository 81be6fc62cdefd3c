namespace KestrelTfo.TestApp;

/// <summary>Counts how often the non-idempotent endpoint ran, so a test can tell a replayed request from none.</summary>
public sealed class RequestLedger
{
    private int _transfers;

    public int Transfers => Volatile.Read(ref _transfers);

    public int RecordTransfer() => Interlocked.Increment(ref _transfers);
}
