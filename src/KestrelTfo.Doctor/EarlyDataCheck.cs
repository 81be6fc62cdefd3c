using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using KestrelTfo.OpenSsl.Client;

namespace KestrelTfo.Doctor;

/// <summary>
/// Checks a TLS 1.3 server's early data from the client side, as a returning client and as an attacker on the path:
/// a first connection gets a ticket; a second resumes with a HEAD request as early data, through a relay that keeps its
/// first flight; then that flight is sent again on a new connection. The server cannot answer the copy (it lacks the
/// client's keys), but its answer says, without keys, whether it took the early data again: a ServerHello that does
/// not resume cannot, and otherwise its EncryptedExtensions is 4 bytes shorter (no early_data extension) when it
/// declines, as RFC 8446 section 8 asks, and as long as for the original when it runs the replay.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class EarlyDataCheck
{
    /// <summary>The early_data extension in EncryptedExtensions: its type and its (empty) length, 2 bytes each.</summary>
    private const int EarlyDataExtensionLength = 4;

    public static async Task RunAsync(DoctorReport report, CheckTarget target, IPEndPoint server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout * 3);
        var request = Encoding.ASCII.GetBytes($"HEAD / HTTP/1.1\r\nHost: {target.Host}\r\nConnection: close\r\n\r\n");

        // The doctor asks how the server treats early data, not whether to trust it: any certificate will do.
        using var context = new OpenSslClientContext([SslApplicationProtocol.Http11], static (_, _, _) => true, sessionCapacity: 1);
        byte[] flight;
        byte[] answer;
        try
        {
            await using (var first = OpenSslClientConnection.Create(context, NewSocket(server), server, target.Host))
            {
                await first.HandshakeAsync(ReadOnlyMemory<byte>.Empty, deadline.Token);
                if (first.Handshake!.Protocol != System.Security.Authentication.SslProtocols.Tls13)
                {
                    report.Add(new DoctorCheck("early-data", true, "no TLS 1.3", $"the server chose {first.Handshake.Protocol}; early data needs TLS 1.3"));
                    return;
                }

                await first.WriteAsync(request, deadline.Token);
                if (!await first.ReceiveSessionAsync(deadline.Token))
                {
                    report.Add(new DoctorCheck("early-data", true, "no ticket", "the server sent no session ticket, so no client can resume, or send early data"));
                    return;
                }
            }

            await using var relay = await FirstFlightRelay.StartAsync(server, deadline.Token);
            await using (var second = OpenSslClientConnection.Create(context, relay.ClientSocket, server, target.Host))
            {
                var handshake = await second.HandshakeAsync(request, deadline.Token);
                if (handshake.EarlyData != ClientEarlyDataStatus.Accepted)
                {
                    report.Add(new DoctorCheck("early-data", true, handshake.EarlyData == ClientEarlyDataStatus.NotSent ? "not offered" : "declined",
                        handshake.EarlyData == ClientEarlyDataStatus.NotSent
                            ? "the server's tickets allow no early data (max_early_data 0): returning clients pay a round trip more for HTTPS, and nothing can be replayed"
                            : $"the client resumed ({handshake.IsResumed}) but the server declined its early data; it sent the request after the handshake"));
                    return;
                }
            }

            var sent = relay.ClientFlight;
            flight = sent[..TlsFlight.FirstFlightLength(sent)];
            answer = relay.ServerFlight;
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            report.Add(new DoctorCheck("early-data", false, "failed", $"a TLS 1.3 connection with a resumed session failed: {e.Message}"));
            report.Fail(DoctorExitCode.ServerCheckFailed, new DoctorFix("check that the server serves TLS 1.3 on this address", []));
            return;
        }

        report.Add(new DoctorCheck("early-data", true, "accepted", "a resumed session's HEAD request rode as early data with its ClientHello, and the server answered it before the handshake completed"));
        if (!TlsFlight.TryReadServerFlight(answer, out _, out var original))
        {
            report.Add(new DoctorCheck("early-data-replay", true, "unknown", "the server's answer to the client's first flight could not be read, so its answer to a copy cannot be compared"));
            return;
        }

        var replayed = await ReplayAsync(flight, server, timeout, cancellationToken);
        if (replayed is not { } copy)
        {
            report.Add(new DoctorCheck("early-data-replay", true, "refused", "the server answered a copy of the first flight with nothing that resumes: it ended the connection"));
        }
        else if (!copy.Resumed)
        {
            report.Add(new DoctorCheck("early-data-replay", true, "refused", "a copy of the first flight did not resume (the ticket was single use), so its early data could not be taken"));
        }
        else if (copy.FirstEncryptedLength == original - EarlyDataExtensionLength)
        {
            report.Add(new DoctorCheck("early-data-replay", true, "refused", "a copy of the first flight resumed, and the server declined its early data (no early_data in its EncryptedExtensions): nothing in it ran again"));
        }
        else if (copy.FirstEncryptedLength == original)
        {
            report.Add(new DoctorCheck("early-data-replay", false, "accepted",
                "a copy of the first flight, sent again as anyone on the path could, had its early data taken again (RFC 8446, section 8): the request in it ran twice"));
            report.Fail(DoctorExitCode.EarlyDataReplayed, new DoctorFix(
                "give the server a defence against replayed early data (a record of 0-RTT ClientHellos, or single-use tickets), or turn early data off; KestrelTfo's TLS layer has one built in", []));
        }
        else
        {
            report.Add(new DoctorCheck("early-data-replay", true, "unknown", $"a copy of the first flight resumed, but the server's answer ({copy.FirstEncryptedLength} bytes against {original}) says neither way"));
        }
    }

    private static Socket NewSocket(IPEndPoint server) => new(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

    /// <summary>Sends <paramref name="flight"/> on a new connection and reads the server's answer as far as it tells; null when it tells nothing.</summary>
    private static async Task<(bool Resumed, int FirstEncryptedLength)?> ReplayAsync(byte[] flight, IPEndPoint server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = NewSocket(server);
        var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            await socket.ConnectAsync(server, deadline.Token);
            await socket.SendAsync(flight, SocketFlags.None, deadline.Token);
            while (answer.Length < buffer.Length * 4)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    break;
                }

                answer.Write(buffer, 0, read);
                if (TlsFlight.TryReadServerFlight(answer.GetBuffer().AsSpan(0, (int)answer.Length), out var resumed, out var length))
                {
                    return (resumed, length);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The server ended the copy's connection, or said nothing in time: it took nothing from it.
        }

        return null;
    }
}
