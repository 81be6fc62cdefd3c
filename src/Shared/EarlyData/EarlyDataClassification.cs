using System.Diagnostics;

namespace KestrelTfo.EarlyData;

/// <summary>The result of <see cref="EarlyDataClassifier.Classify"/>: what a connection's early data is.</summary>
internal readonly struct EarlyDataClassification
{
    public static readonly EarlyDataClassification None = new(EarlyDataKind.None);
    public static readonly EarlyDataClassification TlsClientHello = new(EarlyDataKind.TlsClientHello);
    public static readonly EarlyDataClassification Http2Preface = new(EarlyDataKind.Http2Preface);
    public static readonly EarlyDataClassification Unknown = new(EarlyDataKind.Unknown);

    public EarlyDataClassification(EarlyDataKind kind, string? httpMethod = null)
    {
        Debug.Assert(httpMethod is null || kind == EarlyDataKind.HttpRequest, "Only an HTTP request has a method.");
        Kind = kind;
        HttpMethod = httpMethod;
    }

    public EarlyDataKind Kind { get; }

    /// <summary>
    /// For <see cref="EarlyDataKind.HttpRequest"/>, the request's method when it is a standard one, as the shared
    /// string of <see cref="Microsoft.AspNetCore.Http.HttpMethods"/> (so <see cref="object.ReferenceEquals"/>
    /// holds and nothing is allocated); <see langword="null"/> for an extension method and for every other kind.
    /// </summary>
    public string? HttpMethod { get; }

    /// <summary>
    /// Gets whether receiving this early data twice is harmless: true for a TLS ClientHello, which a server only
    /// answers, and for no early data. An HTTP/2 preface is not: it is followed by frames that may carry requests.
    /// </summary>
    public bool IsReplaySafe => Kind is EarlyDataKind.None or EarlyDataKind.TlsClientHello;

    public override string ToString() => HttpMethod is null ? Kind.ToString() : $"{Kind} {HttpMethod}";
}
