using KestrelTfo.Fleet;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>Fleets of the sample app, built for a test and removed after it, or the reason the test cannot run.</summary>
internal static class SampleFleet
{
    public static FleetOptions Options(FleetBalancer balancer, bool sharedKeys, int? httpsPort = null) => new()
    {
        DotNetHost = ChildProcess.DotNet,
        AppPath = Path.Combine(AppContext.BaseDirectory, "HelloFastOpen.dll"),
        Balancer = balancer,
        SharedKeys = sharedKeys,
        HttpsPort = httpsPort,
    };

    /// <summary>Skips (or fails under CI) where a fleet cannot be built: not root, or a tool missing.</summary>
    public static void Require()
    {
        if (EmulatedFleet.UnavailableReason is { } reason)
        {
            FastOpenEnvironment.SkipOrFail($"{reason}. Run eng/test.sh as root: it installs the tools.");
        }
    }

    public static Task<EmulatedFleet> StartAsync(FleetBalancer balancer, bool sharedKeys)
    {
        Require();
        return EmulatedFleet.StartAsync(Options(balancer, sharedKeys), TestContext.Current.CancellationToken);
    }
}
