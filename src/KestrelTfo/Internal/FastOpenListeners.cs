using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

/// <summary>
/// The transport's live listeners and the cookie keys they share. A listener binds with the keys in force, and new keys
/// are kept whatever the live listeners make of them, so they reach every listener bound later too (an endpoint rebound
/// by a configuration reload, say).
/// </summary>
internal sealed class FastOpenListeners
{
    private readonly List<FastOpenConnectionListener> _live = [];
    private readonly ILogger _logger;
    private byte[]? _cookieKeys;

    // False after a change of keys that some live listener refused: the same keys configured again are tried again.
    private bool _keysApplied = true;

    public FastOpenListeners(byte[]? cookieKeys, ILogger logger)
    {
        _cookieKeys = cookieKeys;
        _logger = logger;
        WarnIfWeak(cookieKeys);
    }

    /// <summary>The live listeners now.</summary>
    public IReadOnlyList<FastOpenConnectionListener> Snapshot()
    {
        lock (_live)
        {
            return [.. _live];
        }
    }

    /// <summary>Binds <paramref name="listener"/> with the keys in force, and tracks it until it is disposed.</summary>
    public void Bind(FastOpenConnectionListener listener)
    {
        // Under the lock, so that a change of keys cannot slip between reading them and tracking the listener.
        lock (_live)
        {
            listener.Bind(_cookieKeys);
            _live.Add(listener);
        }
    }

    public void Remove(FastOpenConnectionListener listener)
    {
        lock (_live)
        {
            _live.Remove(listener);
        }
    }

    /// <summary>Makes <paramref name="cookieKeys"/> the keys in force, on every live listener and every one bound later.</summary>
    /// <param name="cookieKeys">The value for <c>TCP_FASTOPEN_KEY</c>; null when the configuration has no key.</param>
    public void UpdateCookieKeys(byte[]? cookieKeys)
    {
        lock (_live)
        {
            if (cookieKeys is null)
            {
                if (_cookieKeys is not null)
                {
                    FastOpenLog.CookieKeysRemoved(_logger);
                }

                return;
            }

            if (_keysApplied && _cookieKeys is not null && cookieKeys.AsSpan().SequenceEqual(_cookieKeys))
            {
                return;
            }

            _cookieKeys = cookieKeys;
            WarnIfWeak(cookieKeys);
            var applied = _live.Count(listener => listener.SetCookieKeys(cookieKeys));
            _keysApplied = applied == _live.Count;
            FastOpenLog.CookieKeysReloaded(_logger, cookieKeys.Length / Platform.FastOpenCookieKey.Length, applied, _live.Count);
        }
    }

    // Valid keys that the kernel takes, so nothing else would tell the operator; the listeners use them all the same.
    private void WarnIfWeak(byte[]? cookieKeys)
    {
        if (cookieKeys is not null && Platform.FastOpenCookieKey.Weakness(cookieKeys) is { } problem)
        {
            FastOpenLog.CookieKeysWeak(_logger, problem);
        }
    }
}
