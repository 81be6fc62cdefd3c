using Grpc.Core;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// A gRPC service of one unary method whose messages are raw bytes, written by hand as code generated from a .proto
/// file would be: Grpc.AspNetCore binds it through <see cref="BindService"/>, and takes as the handler the override
/// of the base's virtual method of the call's name.
/// </summary>
[BindServiceMethod(typeof(PingServiceBase), nameof(BindService))]
internal abstract class PingServiceBase
{
    /// <summary>The call the gRPC row times.</summary>
    public static readonly Method<byte[], byte[]> Method = new(
        MethodType.Unary,
        "bench.Ping",
        nameof(Ping),
        Marshallers.Create(static bytes => bytes, static bytes => bytes),
        Marshallers.Create(static bytes => bytes, static bytes => bytes));

    public static void BindService(ServiceBinderBase binder, PingServiceBase? service) =>
        binder.AddMethod(Method, service is null ? null : service.Ping);

    public abstract Task<byte[]> Ping(byte[] request, ServerCallContext context);
}
