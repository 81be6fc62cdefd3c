namespace KestrelTfo.TestApp;

/// <summary>What <see cref="IEarlyDataRequestFeature"/> said about a request, as the test app reports it.</summary>
public static class EarlyDataReport
{
    /// <summary>"none" for a request that was no early data; otherwise what the guard did with it.</summary>
    public static string Of(HttpContext context) =>
        context.Features.Get<IEarlyDataRequestFeature>() is { } feature
            ? $"early {feature.Handling} proxy={feature.IsFromProxy} possibleReplay={feature.IsPossibleReplay}"
            : "none";
}
