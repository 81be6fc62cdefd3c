using Grpc.Core;

namespace KestrelTfo.TestApp;

/// <summary>The gRPC service behind <see cref="FastOpenReportGrpc"/>: what the call's connection saw of TCP Fast Open.</summary>
/// <remarks>
/// Not sealed, and its method virtual: Grpc.AspNetCore binds a service as generated code lays it out, calling
/// <see cref="BindService"/> without an instance and then invoking the virtual method of that name declared on the type
/// the attribute names.
/// </remarks>
[BindServiceMethod(typeof(FastOpenReportService), nameof(BindService))]
public class FastOpenReportService
{
    public static void BindService(ServiceBinderBase binder, FastOpenReportService? service) =>
        binder.AddMethod(FastOpenReportGrpc.Report, service is null ? null : service.Report);

    public virtual Task<FastOpenReport> Report(string request, ServerCallContext context) =>
        Task.FromResult(FastOpenReport.From(context.GetHttpContext().Features.Get<IFastOpenFeature>()));
}
