using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KestrelTfo.Internal;

/// <summary>
/// Healthy when every TCP listener accepts TCP Fast Open now; otherwise the registration's failure status (Degraded by
/// default), with the setting found and the fix. Degraded, too, when the kernel or a listener accepts data in SYNs
/// without a cookie, which the guard cannot make safe. Reads the kernel setting on every check, so a fix shows without a
/// restart.
/// </summary>
internal sealed class FastOpenHealthCheck(IEnumerable<IConnectionListenerFactory> factories) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(context.Registration.FailureStatus));

    private HealthCheckResult Check(HealthStatus failureStatus)
    {
        var transport = factories.OfType<FastOpenTransportFactory>().FirstOrDefault();
        if (transport is null)
        {
            return new HealthCheckResult(failureStatus, "No listener uses TCP Fast Open: UseFastOpenTransport() was not called.");
        }

        var support = KernelSupport.Detect();
        var listeners = transport.Listeners.Snapshot();
        var data = new Dictionary<string, object> { ["kernel.setting"] = support.Setting };
        foreach (var listener in listeners)
        {
            data[$"listener {listener.EndPoint}"] = listener.FastOpenEnabled ? (support.ServerEnabled ? "on" : "off (kernel)") : $"off ({listener.FastOpenError})";
        }

        if (transport.TryReadKernelCounters(out var counters))
        {
            foreach (var counter in TcpFastOpenCounters.All)
            {
                if (counters.IsPresent(counter))
                {
                    data[TcpFastOpenCounters.KernelName(counter)] = counters[counter];
                }
            }
        }

        if (!support.ServerEnabled)
        {
            return new HealthCheckResult(failureStatus, $"TCP Fast Open is off for servers: {support.ProblemAndFix}", data: data);
        }

        var refused = listeners.Where(l => !l.FastOpenEnabled).Select(l => $"{l.EndPoint} ({l.FastOpenError})").ToList();
        if (refused.Count > 0)
        {
            return new HealthCheckResult(failureStatus, $"TCP Fast Open is off on {string.Join(", ", refused)}.", data: data);
        }

        var withoutCookie = listeners.Where(l => l.AcceptsDataWithoutCookie).Select(l => l.EndPoint.ToString()).ToList();
        if (support.ServerAcceptsDataWithoutCookie || withoutCookie.Count > 0)
        {
            var where = support.ServerAcceptsDataWithoutCookie
                ? $"{support.Setting} has bit 0x200"
                : $"{string.Join(", ", withoutCookie)} set TCP_FASTOPEN_NO_COOKIE";
            return HealthCheckResult.Degraded(
                $"TCP Fast Open is on, but {where}: data in SYNs without a cookie is accepted, so anyone can send a request from a forged address.",
                data: data);
        }

        return HealthCheckResult.Healthy($"TCP Fast Open is on for {listeners.Count} listener(s) ({support.Setting}).", data);
    }
}
