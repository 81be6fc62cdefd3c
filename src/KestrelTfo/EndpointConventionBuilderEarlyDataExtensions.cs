using KestrelTfo;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Extensions that say what happens to an endpoint's requests that may be replays.</summary>
public static class EndpointConventionBuilderEarlyDataExtensions
{
    /// <summary>
    /// Adds <see cref="IEarlyDataMetadata"/> to the endpoints: what happens to their requests that arrived before the
    /// connection's handshake completed, or that a proxy forwarded with <c>Early-Data: 1</c>.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints, for example from <c>MapPost</c>.</param>
    /// <param name="handling">What happens to their requests that may be replays.</param>
    /// <returns>The same <paramref name="builder"/>.</returns>
    public static TBuilder WithEarlyData<TBuilder>(this TBuilder builder, EarlyDataRequestHandling handling)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!Enum.IsDefined(handling))
        {
            throw new ArgumentOutOfRangeException(nameof(handling), handling, "must be RunAtOnce, WaitForHandshake or TooEarly");
        }

        return builder.WithMetadata(new EarlyDataAttribute(handling));
    }
}
