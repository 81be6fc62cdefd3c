using System.Text;
using System.Text.Json;
using Grpc.Core;

namespace KestrelTfo.TestApp;

/// <summary>
/// A unary gRPC method that answers with the call's <see cref="FastOpenReport"/>, described by hand with JSON
/// marshallers, so neither side needs code generated from a .proto.
/// </summary>
public static class FastOpenReportGrpc
{
    public static Method<string, FastOpenReport> Report { get; } = new(
        MethodType.Unary,
        "kestreltfo.test.FastOpenReporter",
        nameof(FastOpenReportService.Report),
        Marshallers.Create(Encoding.UTF8.GetBytes, Encoding.UTF8.GetString),
        Marshallers.Create(
            report => JsonSerializer.SerializeToUtf8Bytes(report, JsonSerializerOptions.Web),
            bytes => JsonSerializer.Deserialize<FastOpenReport>(bytes, JsonSerializerOptions.Web)!));
}
