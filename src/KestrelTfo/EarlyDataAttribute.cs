namespace KestrelTfo;

/// <summary>
/// Says what happens to requests for an endpoint that may be replays: <see cref="EarlyDataRequestHandling.RunAtOnce"/>
/// for an idempotent handler, <see cref="EarlyDataRequestHandling.WaitForHandshake"/> or
/// <see cref="EarlyDataRequestHandling.TooEarly"/> for one that must never run twice, whatever its method.
/// </summary>
/// <param name="handling">What happens to the endpoint's requests that may be replays.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, Inherited = true, AllowMultiple = false)]
public sealed class EarlyDataAttribute(EarlyDataRequestHandling handling) : Attribute, IEarlyDataMetadata
{
    /// <inheritdoc/>
    public EarlyDataRequestHandling Handling { get; } = handling;
}
