using System.IO.Pipelines;

namespace KestrelTfo.EarlyData;

/// <summary>A connection's transport whose input stays shut until the handshake gate opens; output is untouched.</summary>
internal sealed class DeferredDuplexPipe(IDuplexPipe inner, Task<bool> handshakeCompleted) : IDuplexPipe
{
    public PipeReader Input { get; } = new DeferredPipeReader(inner.Input, handshakeCompleted);

    public PipeWriter Output => inner.Output;
}
