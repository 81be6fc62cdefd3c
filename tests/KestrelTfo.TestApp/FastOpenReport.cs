using KestrelTfo;

namespace KestrelTfo.TestApp;

/// <summary>What an endpoint saw of <see cref="IFastOpenFeature"/>, as the test app's JSON answer.</summary>
public sealed record FastOpenReport(bool HasFeature, bool IsFastOpen, int EarlyDataLength)
{
    public static FastOpenReport From(IFastOpenFeature? feature) =>
        new(feature is not null, feature?.IsFastOpen ?? false, feature?.EarlyDataLength ?? 0);
}
