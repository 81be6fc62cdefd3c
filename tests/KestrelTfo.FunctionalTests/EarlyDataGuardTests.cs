using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// The early-data guard on loopback, where every handshake completes at once. Replays and handshakes that never
/// complete need the emulated link (see EmulatedLink/).
/// </summary>
public sealed class EarlyDataGuardTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Flag", EarlyDataAction.Flagged)]
    [InlineData("Defer", EarlyDataAction.Deferred)]
    public async Task A_plaintext_request_in_the_SYN_is_served_and_says_what_the_guard_did(string policy, EarlyDataAction action)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy });

        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        var report = Report(await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout));

        Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", action), report);
        Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers);
    }

    [Fact]
    public async Task Reject_aborts_the_connection_before_the_endpoint_sees_it()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Reject" });
        var ledger = app.Services.GetRequiredService<RequestLedger>();

        // The cookie request is no TFO connection, so the guard lets it through.
        Assert.Contains("\"earlyDataAction\":0", await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Post("/transfer"), fastOpen: true, Timeout), StringComparison.Ordinal);
        Assert.Single(ledger.Transfers);

        var answer = await ExchangeOrResetAsync(RawHttp.Post("/transfer"));
        Assert.Equal(string.Empty, answer);
        Assert.Single(ledger.Transfers);

        // A plain connection, which has no early data, is served as usual.
        Assert.Equal(200, (await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: false, Timeout)).StatusCode);

        async Task<string> ExchangeOrResetAsync(byte[] request)
        {
            try
            {
                return await RawHttp.ExchangeAsync(app.EndPoint, request, fastOpen: true, Timeout);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                return string.Empty;
            }
        }
    }

    [Fact]
    public async Task Per_port_policy_overrides_the_overall_one()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextAddress();
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new System.Net.IPEndPoint(address, 0));
        var port = ((System.Net.IPEndPoint)probe.LocalEndPoint!).Port;
        probe.Dispose();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Reject", [$"Kestrel:FastOpen:EarlyDataPolicyByPort:{port}"] = "Defer" },
            listen: o => o.Listen(address, port));

        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        var report = Report(await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout));

        Assert.Equal(EarlyDataAction.Deferred, report.EarlyDataAction);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(700)]
    [InlineData(60_000)]
    public async Task Garbage_of_any_size_in_the_SYN_is_classified_and_answered_without_harm(int size)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var garbage = new byte[size];
        new Random(size).NextBytes(garbage);
        garbage[0] = 0xff;

        // A line end lets Kestrel judge the request line at once instead of waiting for the rest of it.
        garbage[^1] = (byte)'\n';

        await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout);
        var answer = await RawHttp.ExchangeAsync(app.EndPoint, garbage, fastOpen: true, Timeout);

        // Kestrel refuses what is not HTTP; the guard saw a TFO connection with unknown early data, and the server
        // goes on serving.
        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains(app.Logs.Transport, e => e.EventId.Id == 20 && e.Message.Contains("are Unknown", StringComparison.Ordinal));
        var report = Report(await RawHttp.ExchangeAsync(app.EndPoint, RawHttp.Request("/tfo"), fastOpen: true, Timeout));
        Assert.Equal(EarlyDataKind.HttpRequest, report.EarlyDataKind);
    }

    private static FastOpenReport Report(string response) => RawResponse.Parse(response).Report();
}
