namespace KestrelTfo.Platform;

/// <summary>
/// The kernel's TCP Fast Open counters (<c>/proc/net/netstat</c>, section <c>TcpExt</c>), cumulative since boot
/// for one network namespace. A counter this kernel does not have reads as 0 and is missing from <see cref="Present"/>.
/// </summary>
/// <param name="Active">TCPFastOpenActive: outgoing SYNs whose data the server acknowledged.</param>
/// <param name="ActiveFail">TCPFastOpenActiveFail: outgoing SYNs with data the server did not acknowledge.</param>
/// <param name="Passive">TCPFastOpenPassive: incoming SYNs whose data was accepted.</param>
/// <param name="PassiveFail">TCPFastOpenPassiveFail: incoming SYNs with data that was refused (bad cookie, no memory).</param>
/// <param name="ListenOverflow">TCPFastOpenListenOverflow: incoming SYNs with data refused because the listener's TFO queue was full.</param>
/// <param name="CookieReqd">TCPFastOpenCookieReqd: incoming SYNs that asked for a cookie.</param>
/// <param name="Blackhole">TCPFastOpenBlackhole: times active TFO was switched off because a path seemed to drop SYNs with data.</param>
/// <param name="PassiveAltKey">TCPFastOpenPassiveAltKey: incoming SYNs accepted with the listener's backup key (Linux 5.3+).</param>
/// <param name="Present">The counters this kernel reports.</param>
internal readonly record struct TcpFastOpenCounters(
    long Active,
    long ActiveFail,
    long Passive,
    long PassiveFail,
    long ListenOverflow,
    long CookieReqd,
    long Blackhole,
    long PassiveAltKey,
    TcpFastOpenCounterKinds Present);
