using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using KestrelTfo.Platform;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KestrelTfo.FunctionalTests;

public sealed class ListenerTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task Port_zero_resolves_to_the_port_the_listener_got()
    {
        await using var listener = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0));

        var bound = Assert.IsType<IPEndPoint>(listener.EndPoint);
        Assert.NotEqual(0, bound.Port);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(bound, Timeout);
        await using var connection = await listener.AcceptAsync(Timeout);
        Assert.NotNull(connection);
        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Queue_length_is_the_one_configured()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var sockets = new ListenSockets();
        await using var listener = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), o =>
        {
            o.QueueLength = 17;
            o.CreateBoundListenSocket = sockets.Create;
        });

        Assert.True(listener.FastOpenEnabled);

        // On Linux, getsockopt(TCP_FASTOPEN) on a listener reads back the queue length the kernel uses.
        var queueLength = (int)sockets.Single.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen)!;
        Assert.Equal(17, queueLength);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Address_in_use_raises_AddressInUseException()
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        occupant.Listen();

        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync((IPEndPoint)occupant.LocalEndPoint!).AsTask());
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Address_in_use_fails_app_start_up()
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        occupant.Listen();
        var taken = (IPEndPoint)occupant.LocalEndPoint!;
        await using var app = new KestrelAppFactory<Program>(listen: o => o.Listen(taken));

        var error = Assert.ThrowsAny<IOException>(app.StartServer);

        Assert.IsType<AddressInUseException>(error.InnerException);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Unbind_ends_the_accept_loop()
    {
        await using var listener = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0));
        var accept = listener.AcceptAsync(Timeout);

        await listener.UnbindAsync(Timeout);

        Assert.Null(await accept);
        Assert.Null(await listener.AcceptAsync(Timeout));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Unix_domain_socket_endpoint_is_served_by_Kestrel_beside_a_TCP_endpoint()
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"kestreltfo-{Guid.NewGuid():N}.sock");
        var address = Loopback.NextAddress();
        try
        {
            await using var app = new KestrelAppFactory<Program>(listen: o =>
            {
                o.Listen(address, 0);
                o.ListenUnixSocket(socketPath);
            });
            app.StartServer();

            using var tcp = app.CreateIndependentClient();
            using var uds = new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            })
            { BaseAddress = new Uri("http://localhost") };

            // The TCP endpoint is this transport's (it sets the feature); the Unix socket stays Kestrel's own.
            Assert.Equal(new FastOpenReport(true, false, 0), await tcp.GetFromJsonAsync<FastOpenReport>("/tfo", Timeout));
            Assert.Equal(new FastOpenReport(false, false, 0), await uds.GetFromJsonAsync<FastOpenReport>("/tfo", Timeout));
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Graceful_shutdown_stops_accepting_and_lets_the_request_in_flight_finish()
    {
        await using var app = new KestrelAppFactory<Program>();
        var endPoint = app.EndPoint;
        var gate = app.Services.GetRequiredService<RequestGate>();
        using var client = app.CreateIndependentClient();

        var inFlight = client.GetStringAsync("/hold", Timeout);

        // A request that fails before it reaches the gate ends the test with its own error, not at the time limit.
        if (await Task.WhenAny(gate.Entered, inFlight) == inFlight)
        {
            Assert.Fail($"the request ended before it reached the endpoint: {await inFlight}");
        }

        var stopping = app.DisposeAsync().AsTask();

        // Kestrel unbinds the listener first; a bounded wait for that, observed from outside.
        Assert.True(await RefusesConnectionsAsync(endPoint), "the listener still accepted connections while stopping");
        Assert.False(stopping.IsCompleted, "the host stopped without waiting for the request in flight");

        gate.Release();
        Assert.Equal("released", await inFlight);
        await stopping.WaitAsync(Timeout);
    }

    private static Task<bool> RefusesConnectionsAsync(IPEndPoint endPoint) =>
        Bounded.UntilAsync(
            async () =>
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await probe.ConnectAsync(endPoint, Timeout);
                    return false;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    return true;
                }
            },
            TimeSpan.FromSeconds(5),
            Timeout);

    [Fact(Timeout = Limits.Test)]
    public async Task Each_listener_says_at_start_up_that_TFO_is_on_with_its_queue_keys_and_guard()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var logs = new LogCollector();
        await using var plain = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), logs: logs);
        await using var keyed = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), o =>
        {
            o.CookieKey = TestKeys.A;
            o.BackupCookieKey = TestKeys.B;
            o.EarlyDataPolicy = EarlyDataPolicy.Defer;
            o.QueueLength = 64;
        }, logs: logs);

        var lines = logs.Transport.Where(e => e.EventId.Name == nameof(FastOpenLog.ListenerStarted)).ToList();
        Assert.All(lines, line => Assert.Equal(LogLevel.Information, line.Level));
        Assert.Equal(
            $"Listening on {plain.EndPoint} with TCP Fast Open on (queue length 256); cookie keys: the kernel's; early data that is not a TLS ClientHello: flagged.",
            lines[0].Message);
        Assert.Equal(
            $"Listening on {keyed.EndPoint} with TCP Fast Open on (queue length 64); cookie keys: configured, with a backup; early data that is not a TLS ClientHello: deferred by the kernel's filter.",
            lines[1].Message);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("0d0e0f", StringComparison.OrdinalIgnoreCase));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("ipv6", "ipv6")]
    [InlineData("any", "ipv6")]
    [InlineData("any", "ipv4")]
    public async Task IPv6_and_dual_mode_listeners_serve_TFO_and_tag_their_metrics_ipv6(string listen, string connect)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var own = connect == "ipv6" ? Loopback.NextIPv6Address() : Loopback.NextAddress();
        var listenAddress = listen == "any" ? IPAddress.IPv6Any : own;
        await using var app = new KestrelAppFactory<Program>(listen: o => o.Listen(listenAddress, 0));
        using var metrics = new MetricsCollector(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var server = new IPEndPoint(own, app.EndPoint.Port);

        // An address of this test's own: the first connection fetches the cookie, the second rides in the SYN.
        var cookie = (await RawHttp.GetAsync(server, "/tfo", fastOpen: true, Timeout)).Report();
        var report = (await RawHttp.GetAsync(server, "/tfo", fastOpen: true, Timeout)).Report();

        Assert.False(cookie.IsFastOpen);
        Assert.True(report.IsFastOpen);
        Assert.Equal(2, metrics.Sum("kestreltfo.connections", ("network.type", "ipv6"), ("server.address", listenAddress.ToString())));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task RequireFastOpen_fails_the_bind_with_the_OSs_reason_when_the_OS_refuses_TFO_on_the_socket()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var elsewhere = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        elsewhere.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        elsewhere.Listen();

        // Linux refuses TCP_FASTOPEN on a socket that is neither closed nor listening: here one the app's own socket
        // factory connected by mistake.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), o =>
        {
            o.RequireFastOpen = true;
            o.CreateBoundListenSocket = endPoint =>
            {
                var socket = FastOpenTransportOptions.CreateDefaultBoundListenSocket(endPoint);
                socket.Connect(elsewhere.LocalEndPoint!);
                return socket;
            };
        }).AsTask());

        Assert.StartsWith("TCP Fast Open is required (RequireFastOpen) but is off for servers: TCP Fast Open is off on ", error.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidArgument", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_listen_socket_factory_that_returns_no_IP_socket_fails_the_bind_saying_so()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kestreltfo-{Guid.NewGuid():N}.sock");
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), o =>
                o.CreateBoundListenSocket = _ =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    socket.Bind(new UnixDomainSocketEndPoint(path));
                    return socket;
                }).AsTask());

            Assert.Contains("CreateBoundListenSocket", error.Message, StringComparison.Ordinal);
            Assert.Contains("Unix", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Where_connections_cannot_be_inspected_TFO_stays_off_unless_the_app_accepts_unguarded_early_data(bool allow)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var logs = new LogCollector();
        await using var listener = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), o => o.AllowUnguardedEarlyData = allow, logs, canInspectConnections: false);

        Assert.Equal(allow, listener.FastOpenEnabled);
        var warning = Assert.Single(logs.Transport, e => e.EventId.Name == (allow ? nameof(FastOpenLog.EarlyDataUninspected) : nameof(FastOpenLog.FastOpenOffUninspectable)));
        Assert.Equal(LogLevel.Warning, warning.Level);
        if (!allow)
        {
            Assert.Contains("AllowUnguardedEarlyData", listener.FastOpenError, StringComparison.Ordinal);
            return;
        }

        // On such a platform nothing says whether a SYN carried data: the feature says no TFO and flags nothing, also for
        // the second connection, whose POST rode in its SYN.
        for (var i = 0; i < 2; i++)
        {
            using var client = await RawFastOpen.ConnectAndSendAsync(listener.EndPoint, RawHttp.Post("/transfer"), Timeout);
            await using var connection = await listener.AcceptAsync(Timeout);
            var feature = connection!.Features.Get<IFastOpenFeature>()!;
            Assert.False(feature.IsFastOpen);
            Assert.Equal(EarlyDataAction.None, feature.EarlyDataAction);
        }
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_listener_that_accepts_SYN_data_without_a_cookie_is_warned_about_and_degrades_the_health_check()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(configure: web => web.ConfigureServices(services =>
            services.Configure<FastOpenTransportOptions>(options => options.CreateBoundListenSocket = endPoint =>
            {
                var socket = FastOpenTransportOptions.CreateDefaultBoundListenSocket(endPoint);
                socket.SetRawSocketOption(LinuxTcp.SolTcp, LinuxTcp.TcpFastOpenNoCookie, BitConverter.GetBytes(1));
                return socket;
            })));
        app.StartServer();

        var health = (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Timeout)).Entries["tcp_fast_open"];

        Assert.Equal(LogLevel.Warning, Assert.Single(app.Logs.Transport, e => e.EventId.Name == nameof(FastOpenLog.ListenerAcceptsDataWithoutCookie)).Level);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains($"{app.EndPoint} set TCP_FASTOPEN_NO_COOKIE", health.Description, StringComparison.Ordinal);
    }

    private static async ValueTask<FastOpenConnectionListener> BindAsync(
        IPEndPoint endPoint, Action<FastOpenTransportOptions>? configure = null, LogCollector? logs = null, bool? canInspectConnections = null)
    {
        var options = new FastOpenTransportOptions();
        configure?.Invoke(options);
        var loggerFactory = logs is null ? NullLoggerFactory.Instance : LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var factory = new FastOpenTransportFactory(Options.Create(options), loggerFactory, reload: null, meterFactory: null, TimeProvider.System, canInspectConnections);
        return (FastOpenConnectionListener)await factory.BindAsync(endPoint, Timeout);
    }
}
