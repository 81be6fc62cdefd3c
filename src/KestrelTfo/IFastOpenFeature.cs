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
    /// Gets a value indicating whether the client's SYN carried data that the server accepted,
    /// which makes this a TCP Fast Open connection.
    /// </summary>
    /// <remarks>
    /// Read from the kernel (<c>TCP_INFO</c>, <c>TCPI_OPT_SYN_DATA</c>) on Linux; <see langword="false"/> on
    /// platforms that do not report it, and on listeners where TCP Fast Open could not be enabled.
    /// </remarks>
    bool IsFastOpen { get; }

    /// <summary>
    /// Gets the number of bytes of early data: what the connection had already received when it was
    /// accepted, which starts with the payload of the SYN. Zero when <see cref="IsFastOpen"/> is
    /// <see langword="false"/>.
    /// </summary>
    int EarlyDataLength { get; }
}
