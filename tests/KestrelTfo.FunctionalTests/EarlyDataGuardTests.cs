using KestrelTfo.Internal;
using System.Diagnostics.Metrics;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// The early-data guard on loopback, where every handshake completes before the accept, against the kernel's own
/// handling of each SYN. Replays, and handshakes that never complete, need the emulated link (see WanLink/).
/// </summary>
public sealed class EarlyDataGuardTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("ipv4")]
    [InlineData("ipv6")]
    public async Task Flag_serves_a_plaintext_request_from_the_SYN_at_once_and_flags_it(string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(listen: o => o.Listen(SynPayloads.LoopbackOf(family), 0));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);

        var exchange = await RawHttp.SendAsync(app.EndPoint, RawHttp.Post("/transfer"), Timeout);

        Assert.True(exchange.SynDataAcknowledged);
        Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", EarlyDataAction.Flagged), Report(exchange));
        Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Defer", "ipv4")]
    [InlineData("Defer", "ipv6")]
    [InlineData("Reject", "ipv4")]
    public async Task Defer_has_the_kernel_refuse_plaintext_SYN_data_which_is_then_served_after_the_handshake(string policy, string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = policy },
            listen: o => o.Listen(SynPayloads.LoopbackOf(family), 0));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        var exchange = await RawHttp.SendAsync(app.EndPoint, RawHttp.Post("/transfer"), Timeout);

        // The client's kernel sent the POST in its SYN, the server's kernel refused it there, and the client sent it again
        // after the handshake: no reset, nothing for the client to retry, and the app saw it only then.
        Assert.False(exchange.SynDataAcknowledged);
        Assert.Equal(new FastOpenReport(true, true, 0, EarlyDataKind.None, null, EarlyDataAction.Deferred), Report(exchange));
        Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers);
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "kernel_deferred")));
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.connections"));
        Assert.Equal(policy == "Reject" ? 1 : 0, app.Logs.Transport.Count(e => e.EventId.Name == nameof(FastOpenLog.RejectMeansDefer)));
        Assert.Contains(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.ListenerStarted) && e.Message.Contains("deferred by the kernel's filter", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> ClientHellos() => new(
        from file in ClientHelloCorpus.Names from family in new[] { "ipv4", "ipv6" } select (file, family));

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(ClientHellos))]
    public async Task Defer_still_takes_a_real_ClientHello_in_the_SYN(string file, string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" },
            listen: o => o.Listen(SynPayloads.LoopbackOf(family), 0));
        // A line end after it lets Kestrel judge the bytes at once; the kernel's filter and the guard look at the start only.
        byte[] hello = [.. ClientHelloCorpus.Read(file), (byte)'\r', (byte)'\n'];
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        // A plaintext listener answers TLS bytes with 400; what matters is where the kernel took them.
        var exchange = await RawHttp.SendAsync(app.EndPoint, hello, Timeout);

        Assert.StartsWith("HTTP/1.1 400", exchange.Response, StringComparison.Ordinal);
        Assert.True(exchange.SynDataAcknowledged);
        Assert.Equal(hello.Length, metrics.Sum("kestreltfo.early_data.bytes", ("kestreltfo.early_data.kind", "tls_client_hello")));
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.guard"));
    }

    public static TheoryData<string, string> Malformed() => new(
        from payload in new[] { "short-record", "short-text", "not-a-hello", "wrong-version", "binary" }
        from family in new[] { "ipv4", "ipv6" }
        select (payload, family));

    [Theory(Timeout = Limits.Test)]
    [InlineData("Flag", "ipv4")]
    [InlineData("Defer", "ipv4")]
    [InlineData("Defer", "ipv6")]
    public async Task A_ClientHello_again_in_a_SYN_is_refused_until_the_debounce_window_ends_on_the_apps_clock(string policy, string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var time = new FakeTimeProvider();

        // Under Defer a ClientHello passes the kernel's filter, so the debouncer is what must stop its copies.
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:ClientHelloDebounceWindow"] = "00:00:30", ["Kestrel:FastOpen:EarlyDataPolicy"] = policy },
            listen: o => o.Listen(SynPayloads.LoopbackOf(family), 0),
            configure: web => web.ConfigureServices(services => services.AddSingleton<TimeProvider>(time)));
        byte[] hello = [.. ClientHelloCorpus.Read("curl-tls13.bin"), (byte)'\r', (byte)'\n'];
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());
        Task<RawExchange> SendHelloAsync() => RawHttp.SendAsync(app.EndPoint, hello, Timeout, tolerateReset: true);

        var first = await SendHelloAsync();
        time.Advance(TimeSpan.FromSeconds(30));
        var atTheWindowsEnd = await SendHelloAsync();
        time.Advance(TimeSpan.FromTicks(1));
        var after = await SendHelloAsync();

        // The same ClientHello in a SYN is a replay's until the window, counted from its first sighting, is over.
        Assert.True(first.SynDataAcknowledged);
        Assert.StartsWith("HTTP/1.1 400", first.Response, StringComparison.Ordinal);
        Assert.True(atTheWindowsEnd.Reset, $"the repeat at the window's end was answered: {atTheWindowsEnd.Response}");
        Assert.StartsWith("HTTP/1.1 400", after.Response, StringComparison.Ordinal);
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "debounced")));
        Assert.Equal(3, metrics.Sum("kestreltfo.early_data.connections", ("kestreltfo.early_data.kind", "tls_client_hello")));
    }

    [Theory(Timeout = Limits.Test)]
    [MemberData(nameof(Malformed))]
    public async Task Defer_trims_short_and_malformed_SYN_data_and_the_connection_is_still_served(string payload, string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        byte[] data = payload switch
        {
            "short-record" => [0x16, 0x03, 0x01, (byte)'\r', (byte)'\n'],
            "short-text" => "X\r\n"u8.ToArray(),
            "not-a-hello" => [0x16, 0x03, 0x01, 0x00, 0x30, 0x02, 0x00, 0x00, 0x2c, (byte)'\r', (byte)'\n'],
            "wrong-version" => [0x16, 0x02, 0x01, 0x00, 0x30, 0x01, 0x00, 0x00, 0x2c, (byte)'\r', (byte)'\n'],
            _ => [0x00, 0xff, 0x16, 0x03, 0x01, 0x00, 0x01, (byte)'\r', (byte)'\n'],
        };
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" },
            listen: o => o.Listen(SynPayloads.LoopbackOf(family), 0));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        var exchange = await RawHttp.SendAsync(app.EndPoint, data, Timeout);

        // Refused in the SYN, delivered after the handshake, and judged by Kestrel as any plain connection's bytes.
        Assert.False(exchange.SynDataAcknowledged);
        Assert.StartsWith("HTTP/1.1 400", exchange.Response, StringComparison.Ordinal);
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "kernel_deferred")));
        Assert.Equal(0, metrics.Sum("kestreltfo.early_data.connections"));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("ipv4")]
    [InlineData("ipv6")]
    public async Task SYN_data_that_passes_the_filter_but_not_the_classifier_is_labelled_for_the_transports_deferral(string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" },
            listen: o => o.Listen(SynPayloads.LoopbackOf(family), 0));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>());

        var exchange = await RawHttp.SendAsync(app.EndPoint, SynPayloads.NearClientHello, Timeout);

        // On loopback the handshake is complete before accept, so nothing is held here; holding is proven over the
        // emulated link (EarlyDataReplayTests).
        Assert.True(exchange.SynDataAcknowledged);
        Assert.StartsWith("HTTP/1.1 400", exchange.Response, StringComparison.Ordinal);
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.connections", ("kestreltfo.early_data.kind", "unknown")));
        Assert.Equal(1, metrics.Sum("kestreltfo.early_data.guard", ("kestreltfo.early_data.action", "deferred")));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Where_the_filter_cannot_be_attached_Defer_falls_back_to_the_transport_and_says_so_once()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = "Defer" },
            configure: web => web.ConfigureServices(services => services.Configure<FastOpenTransportOptions>(options =>
                options.CreateBoundListenSocket = endPoint =>
                {
                    var socket = FastOpenTransportOptions.CreateDefaultBoundListenSocket(endPoint);
                    SocketFilters.AttachLockedAcceptAll(socket);
                    return socket;
                })));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);

        var exchange = await RawHttp.SendAsync(app.EndPoint, RawHttp.Post("/transfer"), Timeout);

        // The SYN's POST was taken (no filter refused it) and labelled for the transport's deferral; on loopback the
        // handshake is complete before accept, so the holding itself is proven over the emulated link (EarlyDataReplayTests).
        Assert.True(exchange.SynDataAcknowledged);
        Assert.Equal(new FastOpenReport(true, true, RawHttp.Post("/transfer").Length, EarlyDataKind.HttpRequest, "POST", EarlyDataAction.Deferred), Report(exchange));
        var warning = Assert.Single(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.KernelFilterUnavailable));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.ListenerStarted) && e.Message.Contains("deferred in the transport", StringComparison.Ordinal));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Defer", "Flag")]
    [InlineData("Flag", "Defer")]
    public async Task Per_port_policy_overrides_the_overall_one_either_way(string overall, string onThePort)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextAddress();

        // The policy is keyed by the port the endpoint names, so this endpoint names one, held on another address of the
        // test's own until the app has bound it.
        using var held = Loopback.HoldPort();
        var port = ((System.Net.IPEndPoint)held.LocalEndPoint!).Port;
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:EarlyDataPolicy"] = overall, [$"Kestrel:FastOpen:EarlyDataPolicyByPort:{port}"] = onThePort },
            listen: o => o.Listen(address, port));
        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);

        var exchange = await RawHttp.SendAsync(app.EndPoint, RawHttp.Post("/transfer"), Timeout);

        // Defer on the port (the safe direction) must keep the POST out of the SYN although the overall policy flags.
        Assert.Equal(onThePort == "Flag", exchange.SynDataAcknowledged);
        Assert.Equal(onThePort == "Flag" ? EarlyDataAction.Flagged : EarlyDataAction.Deferred, Report(exchange).EarlyDataAction);
        Assert.Single(app.Services.GetRequiredService<RequestLedger>().Transfers);
    }

    [Theory(Timeout = Limits.Test)]
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

        await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout);
        var answer = await RawHttp.ExchangeAsync(app.EndPoint, garbage, fastOpen: true, Timeout);

        // Kestrel refuses what is not HTTP; the guard saw a TFO connection with unknown early data, and the server
        // goes on serving.
        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.EarlyDataNotReplaySafe)) && e.Message.Contains("are Unknown", StringComparison.Ordinal));
        var report = Report(await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout));
        Assert.Equal(EarlyDataKind.HttpRequest, report.EarlyDataKind);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_connection_that_fails_before_Kestrel_gets_it_costs_that_connection_only()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        var scope = app.Services.GetRequiredService<IMeterFactory>();
        var failing = true;
        using (var throwing = new MeterListener())
        {
            throwing.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Name == "kestreltfo.connections")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            throwing.SetMeasurementEventCallback<long>((_, _, _, _) =>
            {
                if (Volatile.Read(ref failing))
                {
                    throw new InvalidOperationException("a metrics listener that throws");
                }
            });
            throwing.Start();

            var refused = await RawHttp.SendAsync(app.EndPoint, RawHttp.Request("/tfo"), Timeout, tolerateReset: true);
            Assert.Equal(string.Empty, refused.Response);
            Volatile.Write(ref failing, false);
        }

        // The listener went on accepting: the next connection is served.
        Assert.Equal(200, (await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout)).StatusCode);
        var failed = Assert.Single(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.ConnectionFailed));
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Level == LogLevel.Critical);
    }

    private static FastOpenReport Report(RawExchange exchange) => RawResponse.Parse(exchange.Response).Report();
}
