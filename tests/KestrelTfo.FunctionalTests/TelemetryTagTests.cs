using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests;

/// <summary>ASP.NET Core's own request and connection telemetry carries <c>kestreltfo.fast_open</c> for this transport's connections.</summary>
public sealed class TelemetryTagTests
{
    private const string HostingMeter = "Microsoft.AspNetCore.Hosting";
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Request_duration_connection_duration_and_the_request_activity_say_whether_the_connection_used_TFO()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>();
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), HostingMeter, KestrelMeter);
        using var activities = new RequestActivities();

        await activities.GetAsync(app.EndPoint);
        await activities.GetAsync(app.EndPoint);

        Assert.Equal(1, metrics.Sum("http.server.request.duration", ("kestreltfo.fast_open", false)));
        Assert.Equal(1, metrics.Sum("http.server.request.duration", ("kestreltfo.fast_open", true)));
        Assert.True(
            await metrics.WaitUntilAsync(m => m.Sum("kestrel.connection.duration") == 2, TimeSpan.FromSeconds(15), Timeout),
            "the connections' durations were not recorded");
        Assert.Equal(1, metrics.Sum("kestrel.connection.duration", ("kestreltfo.fast_open", true)));
        Assert.Equal(1, metrics.Sum("kestrel.connection.duration", ("kestreltfo.fast_open", false)));
        Assert.Equal([false, true], activities.FastOpenTags);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_HTTP2_connection_whose_streams_run_at_once_is_tagged_once()
    {
        const int Connections = 8;
        const int Streams = 32;
        await using var app = new KestrelAppFactory<Program>(listen: options => options.Listen(Loopback.NextAddress(), 0, listen => listen.Protocols = HttpProtocols.Http2));
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), HostingMeter, KestrelMeter);

        // Each connection's first requests arrive together, and HTTP/2 handles them at the same time.
        for (var i = 0; i < Connections; i++)
        {
            using var client = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri($"http://{app.EndPoint}") };
            await Task.WhenAll(Enumerable.Range(0, Streams).Select(async _ =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/tfo") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                using var response = await client.SendAsync(request, Timeout);
                response.EnsureSuccessStatusCode();
            }));
        }

        Assert.True(
            await metrics.WaitUntilAsync(m => m.Sum("kestrel.connection.duration") == Connections, TimeSpan.FromSeconds(15), Timeout),
            "the connections' durations were not recorded");
        Assert.Equal(Connections, metrics.Sum("kestrel.connection.duration", ("kestreltfo.fast_open", false)));
        Assert.Equal(Connections * Streams, metrics.Sum("http.server.request.duration", ("kestreltfo.fast_open", false)));
        Assert.DoesNotContain(metrics.Measurements, m => m.RepeatedTags is not null);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task TagTelemetry_off_leaves_ASP_NET_Cores_telemetry_as_it_was()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:TagTelemetry"] = "false" });
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<IMeterFactory>(), HostingMeter);
        using var activities = new RequestActivities();

        await activities.GetAsync(app.EndPoint);
        await activities.GetAsync(app.EndPoint);

        Assert.Equal(2, metrics.Sum("http.server.request.duration"));
        Assert.DoesNotContain(metrics.Measurements, m => m.Tags.ContainsKey("kestreltfo.fast_open"));
        Assert.Equal([null, null], activities.FastOpenTags);
    }

    /// <summary>
    /// The server Activities of this test's requests, as any tracing exporter would see them: each request names a trace
    /// of this test's own in its <c>traceparent</c>, which the server's Activity continues.
    /// </summary>
    private sealed class RequestActivities : IDisposable
    {
        private readonly ActivityTraceId _trace = ActivityTraceId.CreateRandom();
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _stopped = new();

        public RequestActivities()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (activity.TraceId == _trace)
                    {
                        _stopped.Enqueue(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<object?> FastOpenTags => [.. _stopped.Select(a => a.GetTagItem("kestreltfo.fast_open"))];

        public async Task GetAsync(System.Net.IPEndPoint server)
        {
            var request = $"GET /tfo HTTP/1.0\r\nHost: test\r\ntraceparent: 00-{_trace}-{ActivitySpanId.CreateRandom()}-01\r\n\r\n";
            Assert.StartsWith("HTTP/1.1 200", (await RawHttp.SendAsync(server, System.Text.Encoding.ASCII.GetBytes(request), Timeout)).Response, StringComparison.Ordinal);
        }

        public void Dispose() => _listener.Dispose();
    }
}
