using System.Diagnostics.Metrics;
using KestrelTfo.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo.EarlyData;

/// <summary>
/// The early-data guard for requests (RFC 8470): a request that arrived before its connection's handshake completed, or
/// that a proxy forwarded with <c>Early-Data: 1</c>, runs at once only when replay-safe; otherwise it waits for the
/// handshake, which a replay never completes, or is answered 425 Too Early. Runs first in every app on the transport;
/// where the app also places it after routing (<c>UseEarlyDataGuard</c>), the first one only marks such requests and the
/// second decides with the endpoint's metadata.
/// </summary>
internal sealed class EarlyDataRequestMiddleware(
    RequestDelegate next,
    EarlyDataGuardPlacement placement,
    IOptions<FastOpenTransportOptions> options,
    ILoggerFactory loggerFactory,
    IMeterFactory meterFactory,
    bool afterRouting)
{
    /// <summary>Tags a request that may be a replay on ASP.NET Core's request metrics, and names this meter's decisions.</summary>
    public const string EarlyDataTag = "kestreltfo.early_data";

    private const string EarlyDataHeader = "Early-Data";

    private readonly EarlyDataRequestHandling _unsafeDefault = options.Value.UnsafeEarlyDataRequests;
    private readonly ILogger _logger = loggerFactory.CreateLogger(FastOpenLog.Category);

    // The transport's meter: the factory hands out one meter per name, so these instruments sit beside the transport's.
    private readonly Counter<long> _requests = meterFactory.Create(FastOpenMetrics.MeterName).CreateCounter<long>(
        "kestreltfo.early_data.requests",
        "{request}",
        "Requests that may be replays (early data, or Early-Data: 1 from a proxy), by what the early-data guard did with them.");

    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.Features.Get<EarlyDataRequestFeature>() ?? Mark(context);
        if (feature is null || feature.Decided || (!afterRouting && placement.AfterRouting))
        {
            return next(context);
        }

        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IEarlyDataMetadata>();
        var handling = EarlyDataRequestRule.Decide(context.Request.Method, feature.IsFromProxy, metadata?.Handling, _unsafeDefault);
        feature.Decide(handling);
        Count(context, feature, handling);
        switch (handling)
        {
            case EarlyDataRequestHandling.RunAtOnce:
                return next(context);
            case EarlyDataRequestHandling.TooEarly:
                FastOpenLog.EarlyDataRequestTooEarly(_logger, context.Request.Method, context.Request.Path);
                // 425 Too Early (RFC 8470, section 5.2), which StatusCodes does not name.
                context.Response.StatusCode = 425;
                return Task.CompletedTask;
            default:
                return WaitThenRunAsync(context, feature.Handshake!);
        }
    }

    private void Count(HttpContext context, EarlyDataRequestFeature feature, EarlyDataRequestHandling handling)
    {
        context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new(EarlyDataTag, true));
        if (_requests.Enabled)
        {
            _requests.Add(
                1,
                new KeyValuePair<string, object?>("kestreltfo.early_data.handling", HandlingName(handling)),
                new KeyValuePair<string, object?>("kestreltfo.early_data.from_proxy", feature.IsFromProxy));
        }
    }

    private static string HandlingName(EarlyDataRequestHandling handling) => handling switch
    {
        EarlyDataRequestHandling.RunAtOnce => "run_at_once",
        EarlyDataRequestHandling.WaitForHandshake => "wait_for_handshake",
        _ => "too_early",
    };

    private static EarlyDataRequestFeature? Mark(HttpContext context)
    {
        var fromProxy = context.Request.Headers.TryGetValue(EarlyDataHeader, out var value) && value == "1";
        var handshake = context.Features.Get<IHandshakeCompletionFeature>();
        if (!fromProxy && handshake is not { IsCompleted: false })
        {
            return null;
        }

        var feature = new EarlyDataRequestFeature(fromProxy, handshake);
        context.Features.Set(feature);
        context.Features.Set<IEarlyDataRequestFeature>(feature);
        return feature;
    }

    private async Task WaitThenRunAsync(HttpContext context, IHandshakeCompletionFeature handshake)
    {
        FastOpenLog.EarlyDataRequestHeld(_logger, context.Request.Method, context.Request.Path);
        bool completed;
        try
        {
            completed = await handshake.Completion.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The connection ended while the request waited: nothing ran, and nobody is left to answer.
            FastOpenLog.EarlyDataRequestDropped(_logger, context.Request.Method, context.Request.Path);
            return;
        }

        if (!completed)
        {
            // A replay: its connection never completed the handshake, and the transport ends it.
            FastOpenLog.EarlyDataRequestDropped(_logger, context.Request.Method, context.Request.Path);
            context.Abort();
            return;
        }

        await next(context).ConfigureAwait(false);
    }
}
