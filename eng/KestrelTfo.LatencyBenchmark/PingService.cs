using Grpc.Core;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>The gRPC row's service: it answers with the bytes it was sent.</summary>
internal sealed class PingService : PingServiceBase
{
    public override Task<byte[]> Ping(byte[] request, ServerCallContext context) => Task.FromResult(request);
}
