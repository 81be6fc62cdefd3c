using KestrelTfo.EarlyData;

namespace KestrelTfo.Tls;

/// <summary>
/// A TLS handshake that was still under way when Kestrel got the connection, because the client's early data was
/// accepted: it completes when the client's Finished is verified, which a replayed first flight never sends.
/// </summary>
internal sealed class TlsHandshakeCompletion : IHandshakeCompletionFeature
{
    private readonly TaskCompletionSource<bool> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsCompleted => _completion.Task.IsCompletedSuccessfully && _completion.Task.Result;

    public Task<bool> Completion => _completion.Task;

    // The client's Finished sets the completion itself: nothing to ask in between.
    public Task<bool> WaitAsync(CancellationToken cancellationToken) => _completion.Task.WaitAsync(cancellationToken);

    public void Complete() => _completion.TrySetResult(true);

    public void Fail() => _completion.TrySetResult(false);
}
