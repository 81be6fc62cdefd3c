using System.Globalization;

namespace KestrelTfo.Testing;

/// <summary>One request as <see cref="NginxServer"/>'s access log has it.</summary>
/// <param name="Method">The request's method (<c>$request_method</c>).</param>
/// <param name="Target">The request target as sent (<c>$request_uri</c>).</param>
/// <param name="Status">The response's status code.</param>
/// <param name="TlsProtocol">The connection's TLS version (<c>$ssl_protocol</c>, such as "TLSv1.3").</param>
/// <param name="EarlyData">Whether nginx read the request while the handshake was unfinished, from TLS 1.3 early data (<c>$ssl_early_data</c> = "1").</param>
/// <param name="SessionReused">Whether the connection resumed a session (<c>$ssl_session_reused</c> = "r").</param>
internal sealed record NginxRequest(string Method, string Target, int Status, string TlsProtocol, bool EarlyData, bool SessionReused)
{
    /// <summary>
    /// Reads a line of the log format NginxServer configures, <c>$request_method $request_uri $status $ssl_protocol
    /// $ssl_early_data $ssl_session_reused</c>, where nginx writes "-" for an empty value.
    /// </summary>
    public static NginxRequest Parse(string line)
    {
        var fields = line.Split(' ');
        if (fields.Length != 6)
        {
            throw new FormatException($"not a line of NginxServer's access log: '{line}'");
        }

        return new NginxRequest(fields[0], fields[1], int.Parse(fields[2], CultureInfo.InvariantCulture), fields[3], fields[4] == "1", fields[5] == "r");
    }
}
