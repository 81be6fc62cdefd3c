using System.Reflection;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Testing;

/// <summary>
/// Event ids read from the product's own log definitions (the <c>[LoggerMessage]</c> on a method of its log class), so
/// that tests name an event by its method, as the product does, and never repeat its number.
/// </summary>
internal static class LogEvents
{
    /// <summary>
    /// The event of <paramref name="method"/> on <paramref name="logClass"/>: the method itself, or, where a public method
    /// checks the level first, its <c>Core</c> partner that carries the attribute.
    /// </summary>
    public static EventId Of(Type logClass, string method)
    {
        const BindingFlags All = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var attribute = logClass.GetMethods(All)
            .Where(m => m.Name == method || m.Name == method + "Core")
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .SingleOrDefault(a => a is not null)
            ?? throw new ArgumentException($"{logClass.Name} has no [LoggerMessage] method {method}", nameof(method));
        return new EventId(attribute.EventId, attribute.EventName ?? method);
    }

    /// <summary>An event of the transport's log (<c>FastOpenLog</c>), by the name of its method.</summary>
    public static EventId Transport(string method) => Of(typeof(KestrelTfo.Internal.FastOpenLog), method);

    /// <summary>An event of the client's log (<c>FastOpenClientLog</c>), by the name of its method.</summary>
    public static EventId Client(string method) => Of(typeof(KestrelTfo.Client.Internal.FastOpenClientLog), method);
}
