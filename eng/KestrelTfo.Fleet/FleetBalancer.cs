namespace KestrelTfo.Fleet;

/// <summary>How the fleet's router spreads new connections to the service address over the instances.</summary>
public enum FleetBalancer
{
    /// <summary>
    /// Equal-cost multipath, as anycast and direct-server-return balancers work: every instance holds the service
    /// address on its loopback, and the router picks a route per connection by a hash of its addresses and ports
    /// (<c>net.ipv4.fib_multipath_hash_policy=1</c>). Instances see the service address as the server address. The router
    /// keeps an established connection on its instance (a conntrack mark), so taking an instance out of the route
    /// drains it as a balancer's connection table would.
    /// </summary>
    Ecmp,

    /// <summary>
    /// nftables DNAT to an instance picked at random (<c>numgen random</c>), as kube-proxy and IPVS in NAT mode do. Each
    /// instance sees its own address as the server address.
    /// </summary>
    DnatRandom,

    /// <summary>nftables DNAT to the instances in turn (<c>numgen inc</c>).</summary>
    DnatRoundRobin,

    /// <summary>
    /// nftables DNAT to an instance picked by a hash of the client's address (<c>jhash ip saddr</c>), as a Kubernetes
    /// Service with <c>sessionAffinity: ClientIP</c> does: one client always reaches the same instance.
    /// </summary>
    DnatClientAddress,
}
