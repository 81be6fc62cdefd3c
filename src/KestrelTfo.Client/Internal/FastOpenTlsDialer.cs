using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using KestrelTfo.OpenSsl.Client;

namespace KestrelTfo.Client.Internal;

/// <summary>
/// Opens a connection of the client's own TLS with its first write: resumes with a stored session when there is one
/// and, when the first write is exactly one safe request (<see cref="FirstWrite.IsSafeEarlyData"/>), sends it as early
/// data behind the ClientHello, the whole first flight in the SYN when TCP Fast Open is on. Early data the server
/// declined goes again after the handshake, once. Tries the addresses in order; only the first attempt carries anything
/// in its SYN or early data, so a retry elsewhere never repeats a first flight another server may have taken.
/// </summary>
/// <param name="dialer">The connector's dialer: sockets, TCP Fast Open, logs and metrics.</param>
/// <param name="context">The TLS settings and sessions.</param>
/// <param name="check">The certificate check, whose resumed form each resumed connection runs.</param>
[SupportedOSPlatform("linux")]
internal sealed class FastOpenTlsDialer(FastOpenDialer dialer, OpenSslClientContext context, ServerCertificateCheck check)
{
    // SslStream's words for a failed handshake, which SocketsHttpHandler gives as the HttpRequestException's message.
    private const string HandshakeFailed = "The SSL connection could not be established, see inner exception.";

    // A ticket comes about one round trip after a response answered from early data; a connection closed first (as
    // Connection: close does at once) reads this long for it, so that the next connection can send early data too.
    private static readonly TimeSpan s_sessionLinger = TimeSpan.FromSeconds(2);

    /// <summary>Connects to the first address that answers, completes the handshake and delivers <paramref name="firstWrite"/>.</summary>
    /// <param name="hostName">The server's name: SNI, and the name its certificate must hold.</param>
    /// <param name="addresses">The server's addresses, in the order to try them.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="firstWrite">What the handler wrote first: a request head, or a request's first bytes.</param>
    /// <param name="cancellationToken">The request's cancellation with the connect timeout.</param>
    /// <returns>The connection, its first write delivered.</returns>
    /// <exception cref="HttpRequestException">The handshake failed (<see cref="HttpRequestError.SecureConnectionError"/>, as SocketsHttpHandler reports it).</exception>
    /// <exception cref="SocketException">No address could be connected to.</exception>
    public async Task<Stream> OpenAsync(string hostName, IReadOnlyList<IPAddress> addresses, int port, ReadOnlyMemory<byte> firstWrite, CancellationToken cancellationToken)
    {
        var safe = FirstWrite.IsSafeEarlyData(firstWrite.Span);
        SocketException? lastError = null;
        for (var i = 0; i < addresses.Count; i++)
        {
            var endPoint = new IPEndPoint(addresses[i], port);
            var started = Stopwatch.GetTimestamp();
            var socket = dialer.CreateTlsSocket(endPoint, fastOpen: i == 0, out var fastOpen);
            var connection = OpenSslClientConnection.Create(context, socket, endPoint, hostName);
            connection.SessionLinger = s_sessionLinger;
            var early = safe && i == 0 ? firstWrite : default;
            try
            {
                var handshake = await connection.HandshakeAsync(early, cancellationToken).ConfigureAwait(false);
                if (handshake.IsResumed)
                {
                    // SslStream checks every connection's certificate; a resumed one's is the session's.
                    connection.ValidateResumedSession(check.ValidateResumed);
                }

                dialer.ReportTls(endPoint, socket, fastOpen, connection.FirstFlightBytes, Stopwatch.GetElapsedTime(started));
                var resent = false;
                if (early.IsEmpty)
                {
                    await connection.WriteAsync(firstWrite, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    resent = await connection.SendEarlyDataUnlessAcceptedAsync(cancellationToken).ConfigureAwait(false);
                }

                var outcome = handshake.EarlyData switch
                {
                    ClientEarlyDataStatus.Accepted => ClientEarlyDataOutcome.Accepted,
                    ClientEarlyDataStatus.Rejected => ClientEarlyDataOutcome.Declined,
                    _ => early.IsEmpty ? ClientEarlyDataOutcome.NotSafe : ClientEarlyDataOutcome.NoSession,
                };
                dialer.Meter?.EarlyData(endPoint, outcome, resent && outcome == ClientEarlyDataOutcome.Declined);
                FastOpenClientLog.TlsConnected(dialer.Logger, endPoint, handshake.IsResumed, outcome);
                return connection;
            }
            catch (SocketException e) when (!connection.ReceivedAny && IsConnectFailure(e.SocketErrorCode) && !cancellationToken.IsCancellationRequested)
            {
                connection.Dispose();
                lastError = e;
                FastOpenClientLog.ConnectAttemptFailed(dialer.Logger, endPoint, e.SocketErrorCode, addresses.Count - i - 1);
            }
            catch (SocketException e) when (connection.Handshake is null && !cancellationToken.IsCancellationRequested)
            {
                // Connected, then reset or cut off during the handshake: SslStream reports it from its read, so do the same.
                connection.Dispose();
                throw new HttpRequestException(
                    HttpRequestError.SecureConnectionError, HandshakeFailed, new IOException($"Unable to read data from the transport connection: {e.Message}.", e));
            }
            catch (Exception e) when (e is AuthenticationException || connection.ValidatorThrew || (e is IOException && connection.Handshake is null))
            {
                connection.Dispose();
                throw new HttpRequestException(HttpRequestError.SecureConnectionError, HandshakeFailed, e);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        throw lastError ?? new SocketException((int)SocketError.HostNotFound);
    }

    // What a connect that reached no server reports (and nothing came from it); anything later is the server's answer and
    // is not retried elsewhere.
    private static bool IsConnectFailure(SocketError error) =>
        error is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TimedOut or SocketError.AddressNotAvailable;
}
