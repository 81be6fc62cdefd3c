namespace KestrelTfo.TestApp;

/// <summary>Holds requests to <c>/hold</c> until a test releases them, so a test can keep a request in flight.</summary>
public sealed class RequestGate
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a request has reached the endpoint.</summary>
    public Task Entered => _entered.Task;

    public Task EnterAndWaitAsync()
    {
        _entered.TrySetResult();
        return _released.Task;
    }

    public void Release() => _released.TrySetResult();
}
