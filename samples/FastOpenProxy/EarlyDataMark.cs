using KestrelTfo;
using Yarp.ReverseProxy.Transforms;

/// <summary>
/// RFC 8470 for the proxy: a request that may still be a replay when it is forwarded goes on marked <c>Early-Data: 1</c>,
/// so that the backend can answer 425 Too Early as it would to its own early data. Such a request came before its
/// connection's handshake completed (in a TCP Fast Open SYN, or as TLS 1.3 early data) and is forwarded before it has, or
/// came from a proxy in front marked so (YARP forwards that field as it came; it is not added twice).
/// </summary>
/// <remarks>
/// A marked request is never sent as early data again: KestrelTfo.Client keeps a request with an <c>Early-Data</c> field
/// out of TLS early data (and a request in a SYN is always a plain GET, HEAD or OPTIONS), so a replay of the client's first
/// flight at one proxy can never become a replayable first flight to the backend.
/// </remarks>
internal static class EarlyDataMark
{
    private const string EarlyData = "Early-Data";

    public static ValueTask ApplyAsync(RequestTransformContext context)
    {
        // The guard's feature asks the connection's handshake now: forwarded after the handshake, a request is known genuine.
        if (context.HttpContext.Features.Get<IEarlyDataRequestFeature>() is { IsPossibleReplay: true } && !context.ProxyRequest.Headers.Contains(EarlyData))
        {
            context.ProxyRequest.Headers.TryAddWithoutValidation(EarlyData, "1");
        }

        return ValueTask.CompletedTask;
    }
}
