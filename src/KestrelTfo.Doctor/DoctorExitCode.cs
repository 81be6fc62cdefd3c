namespace KestrelTfo.Doctor;

/// <summary>The doctor's exit codes; scripts depend on them, so a value never changes meaning.</summary>
internal enum DoctorExitCode
{
    /// <summary>TCP Fast Open works end to end (or, with <c>--check</c>, the server accepted data in a SYN).</summary>
    Works = 0,

    /// <summary><c>net.ipv4.tcp_fastopen</c> lacks a bit that is needed, or cannot be read.</summary>
    KernelSetting = 1,

    /// <summary>The command line was not understood.</summary>
    Usage = 2,

    /// <summary>The settings look right, yet the loopback self-test did not get data through in a SYN.</summary>
    SelfTestFailed = 3,

    /// <summary>With <c>--check</c>: the server was unreachable or did not accept data in a SYN.</summary>
    ServerCheckFailed = 4,

    /// <summary>Not Linux: the doctor cannot observe TCP Fast Open on this OS.</summary>
    UnsupportedPlatform = 5,

    /// <summary>
    /// With <c>--check</c> and <c>--connections</c>: the server took the data in some SYNs and not in others, as a fleet
    /// behind one address does whose instances do not share a key, or see different server addresses (NAT).
    /// </summary>
    SomeConnections = 6,

    /// <summary>
    /// With <c>--check https://...</c>: the server took the early data of a copy of a client's first flight again, so
    /// whatever request rides in it can run twice (RFC 8446, section 8).
    /// </summary>
    EarlyDataReplayed = 7,
}
