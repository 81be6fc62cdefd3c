using System.Diagnostics;
using KestrelTfo.Fleet;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>A fleet leaves nothing behind on the machine: no namespace name, process or file, also when its start fails.</summary>
[Collection(nameof(FleetTests))]
public sealed class FleetCleanupTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.LongTest)]
    public async Task Disposing_a_fleet_removes_its_namespaces_processes_and_files()
    {
        var fleet = await SampleFleet.StartAsync(FleetBalancer.DnatRandom, sharedKeys: true);
        var processes = fleet.Instances.Select(instance => instance.ProcessId!.Value).ToList();
        var contentRoots = fleet.Instances.Select(instance => instance.ContentRoot).ToList();
        Assert.Equal(2 + fleet.Instances.Count, Namespaces(fleet.Name).Count);

        await fleet.DisposeAsync();

        Assert.Empty(Namespaces(fleet.Name));
        Assert.All(processes, id => Assert.False(IsRunning(id), $"process {id} still runs"));
        Assert.All(contentRoots, directory => Assert.False(Directory.Exists(directory), $"{directory} is still there"));
    }

    [Fact(Timeout = Limits.LongTest)]
    public async Task A_fleet_whose_app_does_not_start_removes_what_it_made_and_says_why()
    {
        SampleFleet.Require();
        var options = SampleFleet.Options(FleetBalancer.Ecmp, sharedKeys: true);
        options = new FleetOptions
        {
            DotNetHost = options.DotNetHost,
            AppPath = Path.Combine(AppContext.BaseDirectory, "NoSuchApp.dll"),
            Name = $"{options.Name}-broken",
        };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => EmulatedFleet.StartAsync(options, Timeout));

        Assert.Contains("did not start listening", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Namespaces(options.Name));
    }

    private static List<string> Namespaces(string fleetName) =>
        Directory.Exists("/run/netns") ? [.. Directory.GetFiles("/run/netns", $"{fleetName}-*")] : [];

    private static bool IsRunning(int id)
    {
        try
        {
            using var process = Process.GetProcessById(id);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
