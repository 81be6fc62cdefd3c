using System.Net.Http;
using System.Net.Sockets;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// Connect timeout and cancellation of the TFO HttpClient handler, against an endpoint that never answers a SYN but
/// for which the client holds a cookie, so the SYN that carries the data is the one left unanswered.
/// </summary>
public sealed class FastOpenClientTeardownTests
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(1);

    // SocketsHttpHandler gives up on a connection attempt whose request was cancelled 5 s later; allow for that.
    private static readonly TimeSpan s_teardownLimit = TimeSpan.FromSeconds(20);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData("http")]
    [InlineData("https")]
    public async Task Connect_timeout_ends_the_request_as_SocketsHttpHandler_does_and_closes_the_socket(string scheme)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var blackHole = await BlackHole.StartAsync(Timeout);
        var uri = new Uri($"{scheme}://{blackHole.EndPoint}/tfo");
        using var log = new ClientLog();

        var expected = await FailureAsync(FastOpenHttp.Handler(log: null, connectTimeout: s_connectTimeout), uri, Timeout);
        var actual = await FailureAsync(FastOpenHttp.Handler(log, connectTimeout: s_connectTimeout), uri, Timeout);

        Assert.IsType<TaskCanceledException>(expected);
        Assert.IsType<TimeoutException>(expected.InnerException);
        Assert.IsType(expected.GetType(), actual);
        Assert.IsType<TimeoutException>(actual.InnerException);
        Assert.Equal(0, await TcpTable.WaitForNoSynSentAsync(blackHole.EndPoint, s_teardownLimit));
        Assert.Empty(log.Connections);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Connect_timeout_runs_on_the_connectors_clock_and_ends_exactly_when_it_says()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var blackHole = await BlackHole.StartAsync(Timeout);
        var time = new TimerCountingTimeProvider();

        // Far longer than a test may take: only the test's clock can end it.
        var connectTimeout = TimeSpan.FromMinutes(5);
        using var attempts = new SemaphoreSlim(0);
        var options = new FastOpenConnectOptions
        {
            CreateSocket = endPoint =>
            {
                attempts.Release();
                return new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            },
        };
        var connector = new FastOpenConnector(options, loggerFactory: null, FastOpenClientSocket.PlatformMethod, time: time);
        using var client = new HttpClient(FastOpenHttp.Handler(log: null, connectTimeout: connectTimeout).UseFastOpen(connector))
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };

        var request = client.GetAsync(new Uri($"http://{blackHole.EndPoint}/tfo"), Timeout);
        await attempts.WaitAsync(Timeout);
        time.AdvanceThroughDueTime(connectTimeout);

        var failure = await Assert.ThrowsAsync<TaskCanceledException>(() => request.WaitAsync(TimeSpan.FromSeconds(30), Timeout));
        Assert.IsType<TimeoutException>(failure.InnerException);
        Assert.Equal(0, await TcpTable.WaitForNoSynSentAsync(blackHole.EndPoint, s_teardownLimit));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("http")]
    [InlineData("https")]
    public async Task Cancelling_the_request_ends_it_as_SocketsHttpHandler_does_and_closes_the_socket(string scheme)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        using var blackHole = await BlackHole.StartAsync(Timeout);
        var uri = new Uri($"{scheme}://{blackHole.EndPoint}/tfo");
        using var log = new ClientLog();

        using var expectedCancel = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        expectedCancel.CancelAfter(TimeSpan.FromMilliseconds(300));
        var expected = await FailureAsync(FastOpenHttp.Handler(log: null), uri, expectedCancel.Token);
        using var actualCancel = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        actualCancel.CancelAfter(TimeSpan.FromMilliseconds(300));
        var actual = await FailureAsync(FastOpenHttp.Handler(log), uri, actualCancel.Token);

        var expectedCanceled = Assert.IsType<TaskCanceledException>(expected);
        Assert.Equal(expectedCancel.Token, expectedCanceled.CancellationToken);
        var actualCanceled = Assert.IsType<TaskCanceledException>(actual);
        Assert.Equal(actualCancel.Token, actualCanceled.CancellationToken);
        Assert.Equal(0, await TcpTable.WaitForNoSynSentAsync(blackHole.EndPoint, s_teardownLimit));
        Assert.Empty(log.Connections);
    }

    private static async Task<Exception> FailureAsync(SocketsHttpHandler handler, Uri uri, CancellationToken cancellationToken)
    {
        // No HttpClient timeout, which would also end the request with a TimeoutException: only the handler's own
        // connect timeout or the caller's token may. The test's own bound fails differently (a bare TimeoutException).
        using var client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        return await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync(uri, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken));
    }
}
