using KestrelTfo.Fleet;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>Fleets of the sample app, built for a test and removed after it, or the reason the test cannot run.</summary>
internal static class SampleFleet
{
    public static FleetOptions Options(FleetBalancer balancer, bool sharedCookieKey) => new()
    {
        DotNetHost = ChildProcess.DotNet,
        AppPath = Path.Combine(AppContext.BaseDirectory, "HelloFastOpen.dll"),
        Balancer = balancer,
        SharedCookieKey = sharedCookieKey,
    };

    /// <summary>Skips (or fails under CI) where a fleet cannot be built: not root, or a tool missing.</summary>
    public static void Require()
    {
        if (EmulatedFleet.UnavailableReason is { } reason)
        {
            FastOpenEnvironment.SkipOrFail($"{reason}. Run eng/test.sh as root: it installs the tools.");
        }
    }

    public static Task<EmulatedFleet> StartAsync(FleetBalancer balancer, bool sharedCookieKey)
    {
        Require();
        return EmulatedFleet.StartAsync(Options(balancer, sharedCookieKey), TestContext.Current.CancellationToken);
    }
}
