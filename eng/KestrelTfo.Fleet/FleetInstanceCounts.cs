namespace KestrelTfo.Fleet;

/// <summary>What one instance's kernel counted over a probe.</summary>
/// <param name="FastOpen">SYNs whose cookie it accepted, so it took their data (<c>TCPFastOpenPassive</c>).</param>
/// <param name="CookieRejected">SYNs whose cookie it did not accept (<c>TCPFastOpenPassiveFail</c>).</param>
public sealed record FleetInstanceCounts(long FastOpen, long CookieRejected)
{
    /// <summary>Gets the connections with a cookie that reached this instance.</summary>
    public long Reached => FastOpen + CookieRejected;
}
