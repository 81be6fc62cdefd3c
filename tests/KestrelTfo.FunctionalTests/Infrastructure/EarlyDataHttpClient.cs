using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using KestrelTfo.Client;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// An HttpClient whose HTTPS requests go over KestrelTfo.Client's own TLS with early data (a <see cref="FastOpenHttpsHandler"/>
/// in front of a SocketsHttpHandler with TCP Fast Open), trusting <see cref="TestCertificate"/> unless
/// <c>configure</c> says otherwise, with its log and its own meter factory's measurements.
/// </summary>
internal sealed class EarlyDataHttpClient : IDisposable
{
    private readonly ServiceProvider _services;

    /// <param name="configure">Changes the inner handler before the first request.</param>
    /// <param name="tlsEarlyData">The connector's <see cref="FastOpenConnectOptions.TlsEarlyData"/>.</param>
    /// <param name="createSocket">The connector's <see cref="FastOpenConnectOptions.CreateSocket"/>, such as an emulated link's client sockets.</param>
    /// <param name="sessionCacheSize">The connector's <see cref="FastOpenConnectOptions.TlsSessionCacheSize"/>.</param>
    public EarlyDataHttpClient(
        Action<SocketsHttpHandler>? configure = null, bool tlsEarlyData = true, Func<IPEndPoint, Socket>? createSocket = null, int sessionCacheSize = 256)
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = _services.GetRequiredService<IMeterFactory>();
        Metrics = new MetricsCollector(meters, FastOpenClientMetrics.MeterName);
        var connector = new FastOpenConnector(new FastOpenConnectOptions { TlsEarlyData = tlsEarlyData, CreateSocket = createSocket, TlsSessionCacheSize = sessionCacheSize }, Log.Factory, meters);
        Inner = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) };
        Inner.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificate.IsTheOne(certificate);
        configure?.Invoke(Inner);
        if (Inner.ConnectCallback is null)
        {
            Inner.UseFastOpen(connector);
        }
        Handler = new FastOpenHttpsHandler(Inner, connector);
        Client = new HttpClient(Handler);
    }

    public FastOpenHttpsHandler Handler { get; }

    public SocketsHttpHandler Inner { get; }

    public HttpClient Client { get; }

    public ClientLog Log { get; } = new();

    public MetricsCollector Metrics { get; }

    /// <summary>How many connections' first requests went early and were taken (<c>accepted</c>), declined, and so on.</summary>
    public long EarlyData(string outcome) =>
        Metrics.Sum("kestreltfo.client.tls.early_data", ("kestreltfo.client.tls.early_data.outcome", outcome));

    /// <summary>One request on a connection of its own (<c>Connection: close</c>); the response's body.</summary>
    public async Task<string> SendOnNewConnectionAsync(HttpMethod method, Uri uri, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.ConnectionClose = true;
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Waits until the handler holds at least <paramref name="count"/> sessions (a connection's tickets, for the next ones).</summary>
    public Task<bool> WaitForSessionsAsync(int count) =>
        Bounded.UntilAsync(() => Handler.StoredSessions >= count, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

    public void Dispose()
    {
        Client.Dispose();
        Metrics.Dispose();
        Log.Dispose();
        _services.Dispose();
    }
}
