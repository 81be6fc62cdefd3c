namespace KestrelTfo.EarlyData;

/// <summary>The one rule for a request that may be a replay (RFC 8470), whatever brought it early: TCP Fast Open, TLS early data, a proxy.</summary>
internal static class EarlyDataRequestRule
{
    /// <param name="method">The request's method.</param>
    /// <param name="fromProxy">A proxy marked it with <c>Early-Data: 1</c>.</param>
    /// <param name="endpoint">What the endpoint's metadata says, if the endpoint is known and says anything.</param>
    /// <param name="unsafeDefault">What the app's options say for methods that are not safe.</param>
    public static EarlyDataRequestHandling Decide(string method, bool fromProxy, EarlyDataRequestHandling? endpoint, EarlyDataRequestHandling unsafeDefault)
    {
        var handling = endpoint ?? (ReplaySafeMethods.IsSafe(method) ? EarlyDataRequestHandling.RunAtOnce : unsafeDefault);

        // The proxy's client completes its handshake with the proxy, not here: nothing here can wait for it.
        return fromProxy && handling == EarlyDataRequestHandling.WaitForHandshake ? EarlyDataRequestHandling.TooEarly : handling;
    }
}
