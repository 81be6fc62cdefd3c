using System.Globalization;
using System.Text.Json;
using KestrelTfo.Fleet;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Fleet;

/// <summary>
/// <c>kestreltfo-doctor --check ADDR:PORT --connections N</c>, run as an operator would from the client's side, tells
/// each balancer apart by the share of connections whose SYN data the fleet took.
/// </summary>
[Collection(nameof(FleetTests))]
public sealed class FleetDoctorTests
{
    // (2/3)^40 + (1/3)^40 < 10^-7: the chance that a fleet that takes some connections shows all or none.
    private const int Connections = 40;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.LongTest)]
    [InlineData(FleetBalancer.Ecmp, true, "all", 0)]
    [InlineData(FleetBalancer.Ecmp, false, "some", 6)]
    [InlineData(FleetBalancer.DnatRandom, true, "some", 6)]
    [InlineData(FleetBalancer.DnatRoundRobin, true, "none", 4)]
    [InlineData(FleetBalancer.DnatClientAddress, false, "all", 0)]
    public async Task The_doctor_reports_the_share_each_balancer_gives(FleetBalancer balancer, bool sharedKeys, string share, int exitCode)
    {
        await using var fleet = await SampleFleet.StartAsync(balancer, sharedKeys);

        var run = await fleet.Client.ExecAsync(
            ChildProcess.DotNet,
            [Path.Combine(AppContext.BaseDirectory, "KestrelTfo.Doctor.dll"), "--json", "--check", fleet.ServiceEndPoint.ToString(),
                "--connections", Connections.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(120),
            Timeout);

        var report = JsonDocument.Parse(run.Output).RootElement;
        var seen = report.GetProperty("fleet");
        Assert.True(share == seen.GetProperty("share").GetString(), run.Output);
        Assert.Equal(exitCode, run.ExitCode);
        Assert.Equal(Connections, seen.GetProperty("connections").GetInt32());
        var accepted = seen.GetProperty("accepted").GetInt32();
        Assert.Equal(share, accepted == Connections ? "all" : accepted == 0 ? "none" : "some");
    }
}
