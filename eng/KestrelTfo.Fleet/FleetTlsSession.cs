using System.Globalization;
using System.Net;
using KestrelTfo.Fleet.Internal;

namespace KestrelTfo.Fleet;

/// <summary>
/// A TLS 1.3 client session in the client's namespace, as a returning browser holds one: each connection
/// (<c>openssl s_client</c>) offers the session the one before it got, with <c>GET /</c> as early data, and keeps the
/// ticket it receives for the next. Declined early data is not lost: as a real client does (RFC 8446, section 4.2.10),
/// the request goes again after the handshake, which s_client does not do by itself. Not thread safe: one connection at
/// a time; disposing deletes its files.
/// </summary>
public sealed class FleetTlsSession : IDisposable
{
    private const string Accepted = "Early data was accepted";
    private static readonly TimeSpan s_connectionTimeout = TimeSpan.FromSeconds(20);

    private readonly FleetNamespace _client;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("ktfo-fleet-tls-");
    private readonly string _request;

    /// <summary>A session with no ticket yet: its first connection makes a full handshake.</summary>
    /// <param name="fleet">The fleet whose client namespace the connections start from.</param>
    public FleetTlsSession(EmulatedFleet fleet)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        _client = fleet.Client;
        _request = string.Create(CultureInfo.InvariantCulture, $"GET / HTTP/1.0\r\nHost: {fleet.HttpsServiceEndPoint}\r\n\r\n");
        File.WriteAllText(EarlyDataPath, _request);
    }

    /// <summary>Gets a value indicating whether the session holds a ticket to offer.</summary>
    public bool HasTicket => File.Exists(SessionPath) && new FileInfo(SessionPath).Length > 0;

    private string SessionPath => Path.Combine(_directory.FullName, "session.pem");

    private string EarlyDataPath => Path.Combine(_directory.FullName, "request.txt");

    /// <summary>
    /// One new connection to <paramref name="target"/>: with a ticket, resumes with the request as early data, and sends
    /// it after the handshake where the server declined it; without, a full handshake and the request after it.
    /// </summary>
    /// <param name="target">The service's (or one instance's) HTTPS address and port.</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    /// <returns>What s_client reported.</returns>
    public async Task<FleetTlsConnection> ConnectAsync(IPEndPoint target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var resume = HasTicket;
        List<string> arguments = ["netns", "exec", _client.Name, "openssl", "s_client", "-connect", target.ToString(), "-tls1_3", "-alpn", "http/1.1", "-ign_eof", "-sess_out", SessionPath];
        if (resume)
        {
            // s_client reads the session in before it writes the next ticket out, so one file serves as both.
            arguments.AddRange(["-sess_in", SessionPath, "-early_data", EarlyDataPath]);
        }

        using var process = AppProcess.Start("ip", arguments, _directory.FullName, input: true);
        var accepted = false;
        if (resume)
        {
            // s_client reads its input only once the handshake is done, after it says what became of the early data.
            var status = await process.WaitForLineAsync(0, l => l.StartsWith("Early data was ", StringComparison.Ordinal), s_connectionTimeout, cancellationToken).ConfigureAwait(false);
            accepted = status == Accepted;
        }

        try
        {
            await process.CloseInputAsync(accepted ? "" : _request, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // It ended already (no connection); its exit code and output say so.
        }

        if (!await process.WaitForExitAsync(s_connectionTimeout, cancellationToken).ConfigureAwait(false))
        {
            return new FleetTlsConnection(false, false, false);
        }

        var output = process.Output;
        var answered = process.ExitCode == 0 && output.Contains("HTTP/1.1 200 ", StringComparison.Ordinal);
        return new FleetTlsConnection(answered, output.Contains("Reused, TLSv1.3", StringComparison.Ordinal), accepted && answered);
    }

    /// <summary>Deletes the session's files.</summary>
    public void Dispose() => _directory.Delete(recursive: true);
}
