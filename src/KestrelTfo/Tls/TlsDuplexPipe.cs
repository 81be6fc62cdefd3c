using System.IO.Pipelines;

namespace KestrelTfo.Tls;

/// <summary>The plaintext side of a TLS connection, which Kestrel reads requests from and writes responses to.</summary>
internal sealed class TlsDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
