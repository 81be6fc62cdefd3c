namespace KestrelTfo.Platform;

/// <summary>
/// The kernel's TCP Fast Open counters in <c>/proc/net/netstat</c> (section <c>TcpExt</c>, include/uapi/linux/snmp.h),
/// the one table of their names: each is <c>TCPFastOpen</c> followed by the member's name (see
/// <see cref="TcpFastOpenCounters.KernelName"/>).
/// </summary>
internal enum TcpFastOpenCounter
{
    /// <summary>Outgoing SYNs whose data the server acknowledged.</summary>
    Active,

    /// <summary>Outgoing SYNs with data that the server did not acknowledge.</summary>
    ActiveFail,

    /// <summary>Incoming SYNs with a valid cookie (or none needed), which made a TCP Fast Open connection.</summary>
    Passive,

    /// <summary>Incoming SYNs whose cookie was not valid.</summary>
    PassiveFail,

    /// <summary>Incoming SYNs with data refused because the listener's TCP Fast Open queue was full.</summary>
    ListenOverflow,

    /// <summary>Incoming SYNs that asked for a cookie.</summary>
    CookieReqd,

    /// <summary>Times outgoing TCP Fast Open paused because a path seemed to drop SYNs with data.</summary>
    Blackhole,

    /// <summary>Incoming SYNs accepted with the listener's backup key (Linux 5.3+).</summary>
    PassiveAltKey,
}
