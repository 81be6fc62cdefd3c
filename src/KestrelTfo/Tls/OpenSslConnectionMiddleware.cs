using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.Versioning;
using System.Security.Authentication;
using KestrelTfo.EarlyData;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Tls;

/// <summary>
/// The connection middleware that terminates TLS on OpenSSL for one endpoint: it runs the handshake, sets Kestrel's TLS
/// features, and hands the rest of the pipeline plaintext. Kestrel's own HTTPS middleware, which follows it, sees the
/// TLS feature and passes the connection through. A failed handshake ends that connection only.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OpenSslConnectionMiddleware(
    ConnectionDelegate next, OpenSslServerContext server, ILoggerFactory loggerFactory, KestrelTlsMetrics? metrics, TlsEarlyDataMetrics? earlyDataMetrics)
{
    // The pipes' default.
    private const int PauseThreshold = 64 * 1024;

    private readonly ILogger _httpsLogger = loggerFactory.CreateLogger(KestrelHttpsLog.Category);
    private readonly ILogger _logger = loggerFactory.CreateLogger(OpenSslTlsLog.Category);

    public async Task OnConnectionAsync(ConnectionContext context)
    {
        if (context.Features.Get<ITlsConnectionFeature>() is not null)
        {
            await next(context);
            return;
        }

        using var connection = OpenSslConnection.Create(server, context);
        var startTimestamp = Stopwatch.GetTimestamp();
        var counted = metrics?.HandshakeStart(context) ?? false;
        var transport = context.Transport;
        using var handshakeEnds = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
        if (server.Options.HandshakeTimeout != Timeout.InfiniteTimeSpan)
        {
            handshakeEnds.CancelAfter(server.Options.HandshakeTimeout);
        }

        // Inline: each side's continuation runs on the thread that produced the data (the transport's, or Kestrel's),
        // as Kestrel's own transports do, instead of a thread-pool hop per direction per flush.
        // Early data the app leaves unread (the body of a POST held for the handshake) must not stop the reading of
        // the client's Finished behind it: the plaintext side holds all of it beyond the usual threshold.
        var pipeOptions = new PipeOptions(
            pool: context.Features.Get<IMemoryPoolFeature>()?.MemoryPool,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: PauseThreshold + server.MaxEarlyDataSize,
            resumeWriterThreshold: (PauseThreshold / 2) + server.MaxEarlyDataSize,
            useSynchronizationContext: false);
        var toApp = new Pipe(pipeOptions);
        var fromApp = new Pipe(pipeOptions);

        OpenSslTlsFeature feature;
        var early = false;
        try
        {
            early = server.AntiReplay is not null && await connection.StartWithEarlyDataAsync(transport, toApp.Writer, handshakeEnds.Token);
            if (!early)
            {
                await connection.HandshakeAsync(transport, handshakeEnds.Token);

                // The timeout is the handshake's only: its timer need not run on for the rest of the connection.
                handshakeEnds.CancelAfter(Timeout.InfiniteTimeSpan);
            }

            feature = connection.CreateFeature(early ? null : connection.ValidateClientCertificate());
        }
        catch (OperationCanceledException exception) when (!context.ConnectionClosed.IsCancellationRequested)
        {
            KestrelHttpsLog.AuthenticationTimedOut(_httpsLogger);
            metrics?.HandshakeStop(context, counted, startTimestamp, protocol: null, exception);
            await CompleteAsync(toApp, fromApp);
            return;
        }
        catch (Exception exception)
        {
            KestrelHttpsLog.AuthenticationFailed(_httpsLogger, exception);
            metrics?.HandshakeStop(context, counted, startTimestamp, protocol: null, exception);
            await CompleteAsync(toApp, fromApp);
            return;
        }
        finally
        {
            earlyDataMetrics?.Offered(connection.EarlyDataOutcome);
        }

        Task handshakeReported;
        if (early)
        {
            // Kestrel gets the connection now; the handshake completes behind it, and a request that may not run before
            // that waits for it (the early-data guard reads IHandshakeCompletionFeature).
            context.Features.Set<IHandshakeCompletionFeature>(connection.Handshake);
            handshakeReported = ReportHandshakeAsync(context, connection.Handshake.Completion, handshakeEnds, counted, startTimestamp, feature.Protocol);
        }
        else
        {
            // Completed: whatever the transport said of its own handshake, a live client has proved itself now.
            context.Features.Set<IHandshakeCompletionFeature>(null);
            metrics?.HandshakeStop(context, counted, startTimestamp, feature.Protocol, exception: null);
            KestrelHttpsLog.HttpsConnectionEstablished(_httpsLogger, context.ConnectionId, feature.Protocol);
            handshakeReported = Task.CompletedTask;
        }

        context.Features.Set<ITlsConnectionFeature>(feature);
        context.Features.Set<ITlsHandshakeFeature>(feature);
        context.Features.Set<ITlsApplicationProtocolFeature>(feature);
        context.Features.Set(feature);
        context.Features.Get<IConnectionMetricsTagsFeature>()?.Tags.Add(new("tls.protocol.version", KestrelTlsMetrics.ProtocolVersion(feature.Protocol)));

        context.Transport = new TlsDuplexPipe(toApp.Reader, fromApp.Writer);
        var pumps = connection.RunAsync(transport, toApp.Writer, fromApp.Reader);
        try
        {
            await next(context);
        }
        finally
        {
            // Kestrel is done with the connection: end both directions, then the pumps, before the SSL is freed. A
            // handshake still under way is let finish first (or time out): the client's Finished is on its way, and
            // closing before it arrives would make the kernel answer it with a reset, which can destroy the response
            // before the client reads it.
            await toApp.Reader.CompleteAsync();
            await fromApp.Writer.CompleteAsync();
            await handshakeReported;
            transport.Input.CancelPendingRead();
            try
            {
                await pumps;
            }
            catch (Exception exception)
            {
                OpenSslTlsLog.ConnectionFailed(_logger, context.ConnectionId, exception.Message);
            }

            context.Transport = transport;
        }
    }

    /// <summary>Ends both plaintext pipes of a connection that never reached Kestrel, so their buffers go back to the pool.</summary>
    private static async ValueTask CompleteAsync(Pipe toApp, Pipe fromApp)
    {
        await toApp.Writer.CompleteAsync();
        await toApp.Reader.CompleteAsync();
        await fromApp.Writer.CompleteAsync();
        await fromApp.Reader.CompleteAsync();
    }

    /// <summary>
    /// Logs and measures a handshake that completes after Kestrel got the connection, as for any other: established, or
    /// failed; one that does not complete within the handshake timeout ends the connection.
    /// </summary>
    private async Task ReportHandshakeAsync(
        ConnectionContext context, Task<bool> completion, CancellationTokenSource handshakeEnds, bool counted, long startTimestamp, SslProtocols protocol)
    {
        var timedOut = false;
        try
        {
            await completion.WaitAsync(handshakeEnds.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = !context.ConnectionClosed.IsCancellationRequested;
        }

        if (completion.IsCompletedSuccessfully && completion.Result)
        {
            handshakeEnds.CancelAfter(Timeout.InfiniteTimeSpan);
            metrics?.HandshakeStop(context, counted, startTimestamp, protocol, exception: null);
            KestrelHttpsLog.HttpsConnectionEstablished(_httpsLogger, context.ConnectionId, protocol);
            return;
        }

        var failure = timedOut
            ? new AuthenticationException("The TLS handshake did not complete within the handshake timeout after its early data.")
            : new AuthenticationException("The client's early data was accepted, but it never completed the TLS handshake.");
        if (timedOut)
        {
            KestrelHttpsLog.AuthenticationTimedOut(_httpsLogger);
        }
        else
        {
            KestrelHttpsLog.AuthenticationFailed(_httpsLogger, failure);
        }

        metrics?.HandshakeStop(context, counted, startTimestamp, protocol: null, failure);
        context.Abort(new ConnectionAbortedException(failure.Message, failure));
    }
}
