using System.Net;
using System.Net.Http;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// SocketsHttpHandler's redirect rules, for the requests the client's own TLS takes (its inner handler follows no
/// redirects, since it sees them as plaintext): which responses redirect where, that https never redirects to http,
/// and when the method becomes GET.
/// </summary>
internal static class Redirects
{
    /// <summary>Where <paramref name="response"/> redirects the request for <paramref name="requestUri"/>; null when it does not, or may not.</summary>
    public static Uri? Target(Uri requestUri, HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.Moved or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect
            or HttpStatusCode.MultipleChoices or HttpStatusCode.PermanentRedirect))
        {
            return null;
        }

        if (response.Headers.Location is not { } location)
        {
            return null;
        }

        if (!location.IsAbsoluteUri)
        {
            location = new Uri(requestUri, location);
        }

        // RFC 9110 §10.2.2: a location without a fragment keeps the request's.
        if (!string.IsNullOrEmpty(requestUri.Fragment) && string.IsNullOrEmpty(location.Fragment))
        {
            location = new UriBuilder(location) { Fragment = requestUri.Fragment }.Uri;
        }

        return IsSecure(requestUri) && !IsSecure(location) ? null : location;
    }

    /// <summary>Whether following the redirect turns the request into a GET without content.</summary>
    public static bool ForcesGet(HttpStatusCode statusCode, HttpMethod method) => statusCode switch
    {
        HttpStatusCode.Moved or HttpStatusCode.Found or HttpStatusCode.MultipleChoices => method == HttpMethod.Post,
        HttpStatusCode.SeeOther => method != HttpMethod.Get && method != HttpMethod.Head,
        _ => false,
    };

    private static bool IsSecure(Uri uri) => uri.Scheme is "https" or "wss";
}
