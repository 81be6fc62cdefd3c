using System.Globalization;
using System.Text;

namespace KestrelTfo.Fleet.Internal;

/// <summary>
/// The router namespace's configuration for each balancer: links and addresses (<c>ip -batch</c>), the multipath route,
/// and the nftables table that balances (DNAT) or keeps established connections on their instance (ECMP).
/// </summary>
internal static class RouterConfiguration
{
    /// <summary>The router's end of the client's link.</summary>
    public const string ClientLink = "client";

    /// <summary>The client's and each instance's end of its link to the router.</summary>
    public const string RouterLink = "router";

    private const string Table = "ktfo_fleet";

    public static string InstanceLink(int index) => string.Create(CultureInfo.InvariantCulture, $"i{index}");

    public static IEnumerable<string> Links(int instanceCount, FleetBalancer balancer)
    {
        yield return "link set lo up";
        yield return $"addr add {FleetAddresses.ClientGateway}/24 dev {ClientLink}";
        yield return $"link set {ClientLink} up";
        for (var i = 0; i < instanceCount; i++)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"addr add {FleetAddresses.InstanceGateway(i)}/24 dev {InstanceLink(i)}");
            yield return $"link set {InstanceLink(i)} up";
            if (balancer == FleetBalancer.Ecmp)
            {
                // A connection the conntrack mark pins to instance i routes by this table, whatever the multipath route says now.
                yield return string.Create(CultureInfo.InvariantCulture, $"rule add fwmark {Mark(i)} table {100 + Mark(i)}");
                yield return string.Create(CultureInfo.InvariantCulture, $"route add {FleetAddresses.Service}/32 via {FleetAddresses.Instance(i)} dev {InstanceLink(i)} table {100 + Mark(i)}");
            }
        }
    }

    /// <summary>The multipath route to the service address over the instances in service.</summary>
    public static string MultipathRoute(IReadOnlyList<int> inService) => inService.Count == 1
        ? $"route replace {FleetAddresses.Service}/32 via {FleetAddresses.Instance(inService[0])} dev {InstanceLink(inService[0])}"
        : $"route replace {FleetAddresses.Service}/32 {string.Join(' ', inService.Select(i => $"nexthop via {FleetAddresses.Instance(i)} dev {InstanceLink(i)}"))}";

    /// <summary>
    /// The nftables table, replaced whole: for ECMP, marks that keep each established connection on the instance its
    /// first packet was routed to; for DNAT, the balancing rule over the instances in service.
    /// </summary>
    public static string Nftables(FleetBalancer balancer, int instanceCount, IReadOnlyList<int> inService, IReadOnlyList<int> ports)
    {
        var script = new StringBuilder();
        // Declaring the table first makes the delete succeed when there is none yet.
        script.AppendLine(CultureInfo.InvariantCulture, $"table ip {Table}");
        script.AppendLine(CultureInfo.InvariantCulture, $"delete table ip {Table}");
        script.AppendLine(CultureInfo.InvariantCulture, $"table ip {Table} {{");
        if (balancer == FleetBalancer.Ecmp)
        {
            var marks = string.Join(", ", Enumerable.Range(0, instanceCount).Select(i => $"\"{InstanceLink(i)}\" : {Mark(i)}"));
            script.AppendLine("  chain pin {");
            script.AppendLine("    type filter hook prerouting priority mangle; policy accept;");
            script.AppendLine(CultureInfo.InvariantCulture, $"    ip daddr {FleetAddresses.Service} ct state established,related meta mark set ct mark");
            script.AppendLine("  }");
            script.AppendLine("  chain remember {");
            script.AppendLine("    type filter hook postrouting priority mangle; policy accept;");
            script.AppendLine(CultureInfo.InvariantCulture, $"    ip daddr {FleetAddresses.Service} ct state new ct mark set oifname map {{ {marks} }}");
            script.AppendLine("  }");
        }
        else
        {
            var pick = balancer switch
            {
                FleetBalancer.DnatRandom => "numgen random",
                FleetBalancer.DnatRoundRobin => "numgen inc",
                FleetBalancer.DnatClientAddress => "jhash ip saddr",
                _ => throw new ArgumentOutOfRangeException(nameof(balancer), balancer, null),
            };
            var targets = string.Join(", ", inService.Select((instance, slot) => $"{slot} : {FleetAddresses.Instance(instance)}"));
            script.AppendLine("  chain balance {");
            script.AppendLine("    type nat hook prerouting priority dstnat; policy accept;");
            script.AppendLine(CultureInfo.InvariantCulture, $"    ip daddr {FleetAddresses.Service} tcp dport {{ {string.Join(", ", ports)} }} dnat to {pick} mod {inService.Count} map {{ {targets} }}");
            script.AppendLine("  }");
        }

        script.AppendLine("}");
        return script.ToString();
    }

    private static int Mark(int index) => index + 1;
}
