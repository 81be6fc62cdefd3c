using System.Diagnostics.Metrics;
using KestrelTfo.Client;
using KestrelTfo.Client.Internal;
using KestrelTfo.NetEmu;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// A connector for race tests: its sockets live on an emulated link's client side, each one counted in
/// <paramref name="attempts"/>, and its fallback delay runs on the test's clock.
/// </summary>
internal static class RacingConnector
{
    public static FastOpenConnector Create(
        EmulatedLink link, SemaphoreSlim attempts, TimeSpan fallbackDelay, TimeProvider time, IMeterFactory meters, ILoggerFactory? loggerFactory = null) =>
        new(
            new FastOpenConnectOptions
            {
                FallbackDelay = fallbackDelay,
                CreateSocket = _ =>
                {
                    attempts.Release();
                    return link.CreateClientSocket();
                },
            },
            loggerFactory,
            FastOpenClientSocket.PlatformMethod,
            meters,
            time);
}
