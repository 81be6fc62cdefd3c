using KestrelTfo.EarlyData;

namespace KestrelTfo.Metrics;

/// <summary>The one mapping from the guard's actions to the names metrics and logs show.</summary>
internal static class GuardActionNames
{
    public static string Of(EarlyDataGuardAction action) => action switch
    {
        EarlyDataGuardAction.Flagged => "flagged",
        EarlyDataGuardAction.Deferred => "deferred",
        EarlyDataGuardAction.KernelDeferred => "kernel_deferred",
        EarlyDataGuardAction.DeferralTimedOut => "deferral_timed_out",
        EarlyDataGuardAction.DeferralReset => "deferral_reset",
        EarlyDataGuardAction.Debounced => "debounced",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };
}
