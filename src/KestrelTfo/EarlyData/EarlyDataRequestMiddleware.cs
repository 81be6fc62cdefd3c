using System.Diagnostics.Metrics;
using KestrelTfo.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo.EarlyData;

/// <summary>
/// The early-data guard for requests (RFC 8470): a request that arrived before its connection's handshake completed, or
/// that a proxy forwarded with <c>Early-Data: 1</c>, runs at once only when replay-safe or its endpoint says so;
/// otherwise it waits for the handshake, which a replay never completes, or is answered 425 Too Early. It runs in front
/// of the app's pipeline, and asks the app's routing for such a request's endpoint itself.
/// </summary>
internal sealed class EarlyDataRequestMiddleware(
    RequestDelegate next,
    EarlyDataRouting routing,
    IOptions<FastOpenTransportOptions> options,
    ILoggerFactory loggerFactory,
    IMeterFactory meterFactory)
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
        var feature = Mark(context);
        return feature is null ? next(context) : DecideAsync(context, feature);
    }

    private async Task DecideAsync(HttpContext context, EarlyDataRequestFeature feature)
    {
        var metadata = (await EndpointAsync(context).ConfigureAwait(false))?.Metadata.GetMetadata<IEarlyDataMetadata>();
        var handling = EarlyDataRequestRule.Decide(context.Request.Method, feature.IsFromProxy, metadata?.Handling, _unsafeDefault);
        feature.Decide(handling);
        Count(context, feature, handling);
        switch (handling)
        {
            case EarlyDataRequestHandling.RunAtOnce:
                await next(context).ConfigureAwait(false);
                return;
            case EarlyDataRequestHandling.TooEarly:
                FastOpenLog.EarlyDataRequestTooEarly(_logger, context.Request.Method, context.Request.Path);

                // 425 Too Early (RFC 8470, section 5.2), which StatusCodes does not name.
                context.Response.StatusCode = 425;
                return;
            default:
                await WaitThenRunAsync(context, feature.Handshake!).ConfigureAwait(false);
                return;
        }
    }

    /// <summary>
    /// The endpoint routing picks for the request, as a copy that only carries its metadata; null where it picks none or
    /// cannot be asked. The request leaves as it came: the app's own routing matches it again, and runs it.
    /// </summary>
    private async ValueTask<Endpoint?> EndpointAsync(HttpContext context)
    {
        if (context.GetEndpoint() is { } chosen)
        {
            return chosen;
        }

        if (routing.Route is not { } route)
        {
            return null;
        }

        Endpoint? matched = null;
        var status = context.Response.StatusCode;
        try
        {
            await route(context).ConfigureAwait(false);
            matched = context.GetEndpoint();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An ambiguous match, say: the app's own routing says so when it runs. Here the default rule decides.
        }
        finally
        {
            // Routing sets a short-circuit endpoint's status code before it runs the (here empty) handler.
            context.SetEndpoint(null);
            context.Request.RouteValues.Clear();
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
            }
        }

        return matched;
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
        // Any instance, and any value, counts as 1: RFC 8470, section 5.1, treats multiple or invalid ones so.
        var fromProxy = context.Request.Headers.ContainsKey(EarlyDataHeader);
        var handshake = context.Features.Get<IHandshakeCompletionFeature>();
        if (!fromProxy && handshake is not { IsCompleted: false })
        {
            return null;
        }

        var feature = new EarlyDataRequestFeature(fromProxy, handshake);
        context.Features.Set<IEarlyDataRequestFeature>(feature);
        return feature;
    }

    private async Task WaitThenRunAsync(HttpContext context, IHandshakeCompletionFeature handshake)
    {
        FastOpenLog.EarlyDataRequestHeld(_logger, context.Request.Method, context.Request.Path);
        bool completed;
        try
        {
            completed = await handshake.WaitAsync(context.RequestAborted).ConfigureAwait(false);
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
