using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using KestrelTfo.TestApp;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KestrelTfo.FunctionalTests;

public sealed class ListenerTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
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

    [Fact]
    public async Task Queue_length_is_the_one_configured()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var listener = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0), o => o.QueueLength = 17);

        Assert.True(listener.FastOpenEnabled);

        // On Linux, getsockopt(TCP_FASTOPEN) on a listener reads back the queue length the kernel uses.
        var queueLength = (int)listener.ListenSocket!.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen)!;
        Assert.Equal(17, queueLength);
    }

    [Fact]
    public async Task Address_in_use_raises_AddressInUseException()
    {
        using var occupant = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupant.Bind(new IPEndPoint(Loopback.NextAddress(), 0));
        occupant.Listen();

        await Assert.ThrowsAsync<AddressInUseException>(() => BindAsync((IPEndPoint)occupant.LocalEndPoint!).AsTask());
    }

    [Fact]
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

    [Fact]
    public async Task Unbind_ends_the_accept_loop()
    {
        await using var listener = await BindAsync(new IPEndPoint(Loopback.NextAddress(), 0));
        var accept = listener.AcceptAsync(Timeout);

        await listener.UnbindAsync(Timeout);

        Assert.Null(await accept);
        Assert.Null(await listener.AcceptAsync(Timeout));
    }

    [Fact]
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

    [Fact]
    public async Task Graceful_shutdown_stops_accepting_and_lets_the_request_in_flight_finish()
    {
        await using var app = new KestrelAppFactory<Program>();
        var endPoint = app.EndPoint;
        var gate = app.Services.GetRequiredService<RequestGate>();
        using var client = app.CreateIndependentClient();

        var inFlight = client.GetStringAsync("/hold", Timeout);
        await gate.Entered.WaitAsync(Timeout);
        var stopping = app.DisposeAsync().AsTask();

        // Kestrel unbinds the listener first; a bounded wait for that, observed from outside.
        Assert.True(await RefusesConnectionsAsync(endPoint), "the listener still accepted connections while stopping");
        Assert.False(stopping.IsCompleted, "the host stopped without waiting for the request in flight");

        gate.Release();
        Assert.Equal("released", await inFlight);
        await stopping.WaitAsync(Timeout);
    }

    private static async Task<bool> RefusesConnectionsAsync(IPEndPoint endPoint)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(endPoint, Timeout);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return true;
            }

            await Task.Delay(50, Timeout);
        }

        return false;
    }

    private static async ValueTask<FastOpenConnectionListener> BindAsync(IPEndPoint endPoint, Action<FastOpenTransportOptions>? configure = null)
    {
        var options = new FastOpenTransportOptions();
        configure?.Invoke(options);
        var factory = new FastOpenTransportFactory(Options.Create(options), NullLoggerFactory.Instance);
        return (FastOpenConnectionListener)await factory.BindAsync(endPoint, Timeout);
    }
}
