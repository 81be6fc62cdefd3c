namespace KestrelTfo;

/// <summary>
/// What TCP Fast Open did for one connection accepted by the fast open transport.
/// </summary>
/// <remarks>
/// Set on every connection the transport accepts, so middleware and endpoints read it from
/// <c>HttpContext.Features.Get&lt;IFastOpenFeature&gt;()</c> (or from <c>ConnectionContext.Features</c>).
/// A connection served by another transport (a Unix domain socket, a named pipe) has no such feature.
/// </remarks>
public interface IFastOpenFeature
{
    /// <summary>
    /// Gets a value indicating whether the connection was opened by a SYN with a valid cookie: a TCP Fast Open
    /// connection, whose SYN's data (if any, see <see cref="EarlyDataLength"/>) the server took before the handshake.
    /// </summary>
    /// <remarks>
    /// Read from the kernel on Linux: <c>TCP_INFO</c>'s <c>TCPI_OPT_SYN_DATA</c> (the SYN's data was accepted), or
    /// <c>TCPI_OPT_TFO_CHILD</c> (a cookie opened it, on kernels that report that bit) for a connection whose SYN data
    /// the early-data filter refused, which then reports no early data and <see cref="EarlyDataAction.Deferred"/>.
    /// <see langword="false"/> on platforms that do not report it, and on listeners where TCP Fast Open could not be
    /// enabled.
    /// </remarks>
    bool IsFastOpen { get; }

    /// <summary>
    /// Gets the number of bytes of early data: what the connection had already received when it was
    /// accepted, which starts with the payload of the SYN. Zero when <see cref="IsFastOpen"/> is
    /// <see langword="false"/>.
    /// </summary>
    int EarlyDataLength { get; }

    /// <summary>
    /// Gets what the early data is: a TLS ClientHello, an HTTP/1.x request, the HTTP/2 preface, or unknown
    /// bytes. <see cref="EarlyDataKind.None"/> when <see cref="IsFastOpen"/> is <see langword="false"/>.
    /// </summary>
    EarlyDataKind EarlyDataKind { get; }

    /// <summary>
    /// Gets the method of the HTTP request in the early data (a shared string such as <c>"GET"</c>) when
    /// <see cref="EarlyDataKind"/> is <see cref="EarlyDataKind.HttpRequest"/> with a standard method; otherwise
    /// <see langword="null"/>.
    /// </summary>
    string? EarlyDataMethod { get; }

    /// <summary>
    /// Gets what the early-data guard did with this connection. <see cref="EarlyDataAction.Flagged"/> means its
    /// early data may have arrived before, on another connection: the flag belongs to the connection, and the
    /// early data is at most its first request. To decide about a request, use <see cref="IsPossibleReplay"/>.
    /// </summary>
    EarlyDataAction EarlyDataAction { get; }

    /// <summary>
    /// Gets a value indicating whether the request being handled now may be a replay: true while a
    /// <see cref="EarlyDataAction.Flagged"/> connection's three-way handshake has not completed.
    /// </summary>
    /// <remarks>
    /// Asked of the kernel when read. A replayed SYN never completes its handshake, so once the handshake is
    /// complete the connection, and every request on it, is known to be genuine. In practice this is true for the
    /// request that came in the SYN when the app handles it before the client's ACK arrives (the round trip TCP Fast
    /// Open saves), and false for later requests on the same, pooled connection. The early-data guard asks the kernel
    /// the same for every request (see <see cref="IEarlyDataRequestFeature"/>): a request that is not replay-safe waits
    /// for the handshake by default, so by the time it runs this is false.
    /// </remarks>
    bool IsPossibleReplay { get; }
}
