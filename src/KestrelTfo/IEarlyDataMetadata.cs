namespace KestrelTfo;

/// <summary>
/// Endpoint metadata that says what happens to a request for the endpoint that may be a replay (see
/// <see cref="EarlyDataRequestHandling"/>), instead of the default: safe methods at once, others as
/// <see cref="FastOpenTransportOptions.UnsafeEarlyDataRequests"/> says.
/// </summary>
/// <remarks>
/// Set it with <c>[EarlyData(...)]</c> or <c>.WithEarlyData(...)</c> on endpoints of a <c>WebApplication</c>: the guard
/// runs before the app's own middleware and asks the app's routing which endpoint such a request is for.
/// </remarks>
public interface IEarlyDataMetadata
{
    /// <summary>Gets what happens to the endpoint's requests that may be replays.</summary>
    EarlyDataRequestHandling Handling { get; }
}
