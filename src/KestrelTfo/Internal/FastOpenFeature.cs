namespace KestrelTfo.Internal;

internal sealed class FastOpenFeature : IFastOpenFeature
{
    /// <summary>Shared by every connection that did not use TCP Fast Open, so those cost no allocation.</summary>
    public static readonly FastOpenFeature NotFastOpen = new(isFastOpen: false, earlyDataLength: 0);

    public FastOpenFeature(bool isFastOpen, int earlyDataLength)
    {
        IsFastOpen = isFastOpen;
        EarlyDataLength = earlyDataLength;
    }

    public bool IsFastOpen { get; }

    public int EarlyDataLength { get; }
}
