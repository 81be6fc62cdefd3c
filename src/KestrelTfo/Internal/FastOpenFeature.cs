namespace KestrelTfo.Internal;

internal sealed class FastOpenFeature : IFastOpenFeature
{
    /// <summary>Shared by every connection that did not use TCP Fast Open, so those cost no allocation.</summary>
    public static readonly FastOpenFeature NotFastOpen = new(isFastOpen: false, earlyDataLength: 0, EarlyDataKind.None, null, EarlyDataAction.None);

    public FastOpenFeature(bool isFastOpen, int earlyDataLength, EarlyDataKind earlyDataKind, string? earlyDataMethod, EarlyDataAction earlyDataAction)
    {
        IsFastOpen = isFastOpen;
        EarlyDataLength = earlyDataLength;
        EarlyDataKind = earlyDataKind;
        EarlyDataMethod = earlyDataMethod;
        EarlyDataAction = earlyDataAction;
    }

    public bool IsFastOpen { get; }

    public int EarlyDataLength { get; }

    public EarlyDataKind EarlyDataKind { get; }

    public string? EarlyDataMethod { get; }

    public EarlyDataAction EarlyDataAction { get; }
}
