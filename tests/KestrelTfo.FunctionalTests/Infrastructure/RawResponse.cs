using System.Globalization;
using System.Text.Json;
using KestrelTfo.TestApp;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>An HTTP/1.0 response read to the end: its status code and body.</summary>
internal sealed record RawResponse(int StatusCode, string Body)
{
    /// <summary>From opening the connection to the response's first byte.</summary>
    public TimeSpan TimeToFirstByte { get; init; }

    /// <summary>The test app's answer from <c>/tfo</c> or <c>/transfer</c>: what the connection's feature said.</summary>
    public FastOpenReport Report()
    {
        Assert.Equal(200, StatusCode);
        return JsonSerializer.Deserialize<FastOpenReport>(Body, JsonSerializerOptions.Web)!;
    }

    public static RawResponse Parse(string response)
    {
        var headerEnd = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headerEnd > 0, $"not an HTTP response: '{response}'");
        var statusLine = response[..response.IndexOf("\r\n", StringComparison.Ordinal)];
        return new RawResponse(int.Parse(statusLine.Split(' ')[1], CultureInfo.InvariantCulture), response[(headerEnd + 4)..]);
    }
}
