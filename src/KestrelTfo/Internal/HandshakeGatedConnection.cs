using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelTfo.Internal;

/// <summary>
/// Kestrel's connection for a TCP Fast Open socket accepted before its handshake completed, whose disposal waits until
/// the handshake has ended: disposing completes the socket's pipes directly, which would close it gracefully in SYN_RECV
/// (see <see cref="HandshakeGatedPipeWriter"/>). Everything else is the inner connection's.
/// </summary>
internal sealed class HandshakeGatedConnection : ConnectionContext
{
    private readonly ConnectionContext _inner;
    private readonly Task _handshakeEnded;
    private readonly Task _listenerStopping;

    public HandshakeGatedConnection(ConnectionContext inner, Task<bool> handshakeCompleted, bool holdInput, Task listenerStopping)
    {
        _inner = inner;
        _handshakeEnded = handshakeCompleted;
        _listenerStopping = listenerStopping;

        // Set on the inner connection, so that its transport feature and this property stay one pipe.
        inner.Transport = new HandshakeGatedPipe(inner.Transport, handshakeCompleted, holdInput);
    }

    public override IDuplexPipe Transport
    {
        get => _inner.Transport;
        set => _inner.Transport = value;
    }

    public override string ConnectionId
    {
        get => _inner.ConnectionId;
        set => _inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => _inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => _inner.Items;
        set => _inner.Items = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _inner.ConnectionClosed;
        set => _inner.ConnectionClosed = value;
    }

    public override EndPoint? LocalEndPoint
    {
        get => _inner.LocalEndPoint;
        set => _inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _inner.RemoteEndPoint;
        set => _inner.RemoteEndPoint = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

    public override async ValueTask DisposeAsync()
    {
        if (!_handshakeEnded.IsCompleted)
        {
            // Bounded: the handshake completes, fails or times out (FastOpenHandshakeTimeout), the connection is aborted,
            // or the listener stops, when Kestrel's shutdown must not wait for handshakes (the close is then a reset).
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (_inner.ConnectionClosed.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), closed))
            {
                await Task.WhenAny(_handshakeEnded, _listenerStopping, closed.Task).ConfigureAwait(false);
            }
        }

        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
