namespace KestrelTfo.Platform;

/// <summary>The TCP Fast Open counters of <c>/proc/net/netstat</c>, as flags, so a reading can say which ones the kernel has.</summary>
[Flags]
internal enum TcpFastOpenCounterKinds
{
    None = 0,
    Active = 1 << 0,
    ActiveFail = 1 << 1,
    Passive = 1 << 2,
    PassiveFail = 1 << 3,
    ListenOverflow = 1 << 4,
    CookieReqd = 1 << 5,
    Blackhole = 1 << 6,
    PassiveAltKey = 1 << 7,
    All = Active | ActiveFail | Passive | PassiveFail | ListenOverflow | CookieReqd | Blackhole | PassiveAltKey,
}
