using Grpc.Core;
using Grpc.Net.Client;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// gRPC's own client (<see cref="GrpcChannel"/>) over a <see cref="SocketsHttpHandler"/> with <c>UseFastOpen()</c>, calling
/// a gRPC service on the TCP Fast Open transport over TLS (HTTP/2 by ALPN), over loopback with real TFO.
/// </summary>
public sealed class GrpcClientTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = Limits.Test)]
    public async Task A_new_channels_first_unary_call_sends_its_ClientHello_in_the_SYN()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(listen: FastOpenHttp.Listen(Loopback.NextAddress(), https: true));
        var server = new Uri($"https://{app.EndPoint}");
        using var log = new ClientLog();

        var cookieCall = await CallOnANewChannelAsync(server, log);
        var fastOpenCall = await CallOnANewChannelAsync(server, log);

        Assert.Equal(new FastOpenReport(HasFeature: true, IsFastOpen: false, EarlyDataLength: 0), cookieCall);
        Assert.True(fastOpenCall.IsFastOpen);
        Assert.True(fastOpenCall.EarlyDataLength > 0, $"the server saw {fastOpenCall.EarlyDataLength} bytes of early data");
        Assert.Equal((EarlyDataKind.TlsClientHello, EarlyDataAction.None), (fastOpenCall.EarlyDataKind, fastOpenCall.EarlyDataAction));
        Assert.Equal(["CookieRequested", "DataAccepted"], log.Connections);
    }

    /// <summary>One unary call on a channel, and a handler, of its own, so the call opens a new connection.</summary>
    private static async Task<FastOpenReport> CallOnANewChannelAsync(Uri server, ClientLog log)
    {
        using var handler = FastOpenHttp.Handler(log);
        using var channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { HttpHandler = handler });
        return await channel.CreateCallInvoker().AsyncUnaryCall(FastOpenReportGrpc.Report, host: null, new CallOptions(cancellationToken: Timeout), string.Empty);
    }
}
