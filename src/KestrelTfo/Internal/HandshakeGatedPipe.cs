using System.IO.Pipelines;
using KestrelTfo.EarlyData;

namespace KestrelTfo.Internal;

/// <summary>
/// The transport of a TCP Fast Open connection accepted before its handshake completed: its close waits for the
/// handshake, and, when the guard defers its early data, so does its input.
/// </summary>
internal sealed class HandshakeGatedPipe(IDuplexPipe inner, Task<bool> handshakeCompleted, bool holdInput) : IDuplexPipe
{
    public PipeReader Input { get; } = holdInput ? new DeferredPipeReader(inner.Input, handshakeCompleted) : inner.Input;

    public PipeWriter Output { get; } = new HandshakeGatedPipeWriter(inner.Output, handshakeCompleted);
}
