using KestrelTfo;

namespace KestrelTfo.TestApp;

/// <summary>What an endpoint saw of <see cref="IFastOpenFeature"/>, as the test app's JSON answer.</summary>
public sealed record FastOpenReport(
    bool HasFeature,
    bool IsFastOpen,
    int EarlyDataLength,
    EarlyDataKind EarlyDataKind = EarlyDataKind.None,
    string? EarlyDataMethod = null,
    EarlyDataAction EarlyDataAction = EarlyDataAction.None)
{
    public static FastOpenReport From(IFastOpenFeature? feature) => feature is null
        ? new(false, false, 0)
        : new(true, feature.IsFastOpen, feature.EarlyDataLength, feature.EarlyDataKind, feature.EarlyDataMethod, feature.EarlyDataAction);
}
