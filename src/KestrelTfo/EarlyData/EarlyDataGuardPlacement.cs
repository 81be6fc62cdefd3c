namespace KestrelTfo.EarlyData;

/// <summary>Whether the app placed the early-data guard after routing (<c>UseEarlyDataGuard</c>), where endpoint metadata is known.</summary>
internal sealed class EarlyDataGuardPlacement
{
    public bool AfterRouting { get; set; }
}
