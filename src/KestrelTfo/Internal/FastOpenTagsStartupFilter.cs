using KestrelTfo.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace KestrelTfo.Internal;

/// <summary>
/// Puts <c>kestreltfo.fast_open</c> (true or false) on ASP.NET Core's own telemetry for connections this transport
/// accepted: the request's <c>http.server.request.duration</c>, its connection's <c>kestrel.connection.duration</c> and
/// the request's server <c>Activity</c>, so any existing dashboard compares requests with and without TCP Fast Open.
/// </summary>
/// <remarks>
/// Kestrel creates a connection's metric tags only after the transport has handed the connection over, so a transport
/// cannot tag them at accept; the first request on a connection does, through the request features, which fall back to
/// the connection's. Each telemetry's feature exists only while someone listens to it, so a request costs a few feature
/// lookups and no allocation when nobody does.
/// </remarks>
internal sealed class FastOpenTagsStartupFilter(IOptions<FastOpenTransportOptions> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        if (options.Value.TagTelemetry)
        {
            app.Use(TagAsync);
        }

        next(app);
    };

    private static Task TagAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<IFastOpenFeature>() is { } feature)
        {
            var value = FastOpenMeter.FastOpenTagValue(feature.IsFastOpen);
            context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new(FastOpenMeter.FastOpenTag, value));
            if (context.Features.Get<IConnectionMetricsTagsFeature>()?.Tags is { } connectionTags)
            {
                // HTTP/2 runs a connection's first streams at once, and Kestrel's list is not thread-safe; Kestrel itself
                // touches it only before the first request and after the last.
                lock (connectionTags)
                {
                    if (!Contains(connectionTags))
                    {
                        connectionTags.Add(new(FastOpenMeter.FastOpenTag, value));
                    }
                }
            }

            if (context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(FastOpenMeter.FastOpenTag, value);
            }
        }

        return next(context);
    }

    // A connection carries many requests; its tag goes on once.
    private static bool Contains(ICollection<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == FastOpenMeter.FastOpenTag)
            {
                return true;
            }
        }

        return false;
    }
}
