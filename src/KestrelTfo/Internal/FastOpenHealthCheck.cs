using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KestrelTfo.Internal;

/// <summary>
/// Healthy when every TCP listener accepts TCP Fast Open now; otherwise the registration's failure status
/// (Degraded by default), with the setting found and the fix. Reads the kernel setting on every check, so a
/// fix shows without a restart.
/// </summary>
internal sealed class FastOpenHealthCheck(IEnumerable<IConnectionListenerFactory> factories) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failureStatus = context.Registration.FailureStatus;
        var transport = factories.OfType<FastOpenTransportFactory>().FirstOrDefault();
        if (transport is null)
        {
            return Task.FromResult(new HealthCheckResult(failureStatus, "No listener uses TCP Fast Open: UseFastOpenTransport() was not called."));
        }

        var support = KernelSupport.Detect();
        var listeners = transport.Listeners;
        var data = new Dictionary<string, object> { ["kernel.setting"] = support.Setting };
        foreach (var listener in listeners)
        {
            data[$"listener {listener.EndPoint}"] = listener.FastOpenEnabled ? (support.ServerEnabled ? "on" : "off (kernel)") : $"off ({listener.FastOpenError})";
        }

        if (transport.TryReadKernelCounters(out var counters))
        {
            data["TCPFastOpenPassive"] = counters.Passive;
            data["TCPFastOpenPassiveFail"] = counters.PassiveFail;
            data["TCPFastOpenListenOverflow"] = counters.ListenOverflow;
            data["TCPFastOpenCookieReqd"] = counters.CookieReqd;
            data["TCPFastOpenPassiveAltKey"] = counters.PassiveAltKey;
            data["TCPFastOpenActive"] = counters.Active;
            data["TCPFastOpenActiveFail"] = counters.ActiveFail;
            data["TCPFastOpenBlackhole"] = counters.Blackhole;
        }

        if (!support.ServerEnabled)
        {
            return Task.FromResult(new HealthCheckResult(failureStatus, $"TCP Fast Open is off for servers: {support.ProblemAndFix}", data: data));
        }

        var refused = listeners.Where(l => !l.FastOpenEnabled).Select(l => $"{l.EndPoint} ({l.FastOpenError})").ToList();
        if (refused.Count > 0)
        {
            return Task.FromResult(new HealthCheckResult(failureStatus, $"The OS refused TCP Fast Open on {string.Join(", ", refused)}.", data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"TCP Fast Open is on for {listeners.Count} listener(s) ({support.Setting}).", data));
    }
}
