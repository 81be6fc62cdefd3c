namespace KestrelTfo.OpenSsl.Client;

/// <summary>
/// The sessions (tickets) servers gave this client, by server (host:port), each taken out to be used once: RFC 8446
/// §C.4 asks clients not to reuse a TLS 1.3 ticket, since a reused one links the connections for an observer, and a
/// server with anti-replay (OpenSSL's) refuses it anyway. Bounded: when full, the oldest session goes.
/// </summary>
internal sealed class OpenSslSessionStore : IDisposable
{
    private readonly LinkedList<(string Server, SafeSslSessionHandle Session)> _sessions = new();
    private readonly int _capacity;
    private bool _disposed;

    public OpenSslSessionStore(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count
    {
        get
        {
            lock (_sessions)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Keeps <paramref name="session"/>, or frees it at once when the store is disposed (a connection that outlived its client).</summary>
    public void Add(string server, SafeSslSessionHandle session)
    {
        SafeSslSessionHandle? evicted = null;
        lock (_sessions)
        {
            if (_disposed)
            {
                evicted = session;
            }
            else
            {
                _sessions.AddLast((server, session));
                if (_sessions.Count > _capacity)
                {
                    evicted = _sessions.First!.Value.Session;
                    _sessions.RemoveFirst();
                }
            }
        }

        evicted?.Dispose();
    }

    /// <summary>The newest session for <paramref name="server"/>, removed from the store (the caller disposes it); null when there is none.</summary>
    public SafeSslSessionHandle? Take(string server)
    {
        lock (_sessions)
        {
            for (var node = _sessions.Last; node is not null; node = node.Previous)
            {
                if (node.Value.Server == server)
                {
                    _sessions.Remove(node);
                    return node.Value.Session;
                }
            }
        }

        return null;
    }

    public void Dispose()
    {
        lock (_sessions)
        {
            _disposed = true;
            foreach (var (_, session) in _sessions)
            {
                session.Dispose();
            }

            _sessions.Clear();
        }
    }
}
