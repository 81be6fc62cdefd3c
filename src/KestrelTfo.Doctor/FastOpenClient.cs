using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.Doctor;

/// <summary>
/// A client connection with <c>TCP_FASTOPEN_CONNECT</c>: without a cookie for the server, connect does a handshake
/// that asks for one; with a cookie, connect returns at once and the first write goes out in the SYN.
/// </summary>
internal static class FastOpenClient
{
    private const int AnswerLimit = 512;

    /// <summary>Sends <paramref name="payload"/> and reads the answer until a newline, <paramref name="answerLimit"/> bytes or the end.</summary>
    public static Task<FastOpenExchange> ExchangeAsync(
        IPEndPoint server, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken, int answerLimit = AnswerLimit) =>
        RunAsync(server, timeout, async (socket, token) =>
        {
            await socket.SendAsync(payload, SocketFlags.None, token);
            var answer = new byte[answerLimit];
            var length = 0;
            while (length < answer.Length)
            {
                var read = await socket.ReceiveAsync(answer.AsMemory(length), SocketFlags.None, token);
                length += read;
                if (read == 0 || answer.AsSpan(length - read, read).Contains((byte)'\n'))
                {
                    break;
                }
            }

            return FirstLine(answer.AsSpan(0, length));
        }, cancellationToken);

    /// <summary>
    /// Opens a TLS session whose ClientHello is the connection's first write, so it rides in the SYN. The server's
    /// certificate is not judged: the doctor sends nothing but the handshake, and asks only where its ClientHello went.
    /// </summary>
    public static Task<FastOpenExchange> ExchangeTlsAsync(IPEndPoint server, string host, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunAsync(server, timeout, async (socket, token) =>
        {
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = IPAddress.TryParse(host, out _) ? null : host,
#pragma warning disable CA5359 // The doctor sends nothing but the handshake: whom it talks to decides nothing it trusts.
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
                    },
                    token);
                return $"TLS handshake completed ({ssl.SslProtocol})";
            }
            catch (AuthenticationException e)
            {
                // The server answered the ClientHello, if not as this client wished: where the ClientHello went is known.
                return $"TLS handshake failed ({e.Message})";
            }
        }, cancellationToken);

    private static async Task<FastOpenExchange> RunAsync(
        IPEndPoint server, TimeSpan timeout, Func<Socket, CancellationToken, Task<string>> exchange, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            FastOpenConnect.Set(socket, enabled: true);
        }
        catch (SocketException e)
        {
            return new FastOpenExchange(false, false, "", $"the kernel refused TCP_FASTOPEN_CONNECT ({e.Message}); it needs Linux 4.11 or later", KernelRefused: true);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(server, deadline.Token);
            var answer = await exchange(socket, deadline.Token);

            // An answer means the handshake is over, so TCP_INFO knows whether the SYN's data was acknowledged.
            return new FastOpenExchange(true, TcpConnectionInfo.Read(socket).ReceivedSynData, answer, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new FastOpenExchange(false, SynDataAcknowledged(socket), "", $"no answer from {server} within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return new FastOpenExchange(false, SynDataAcknowledged(socket), "", $"{server}: {(e.InnerException ?? e).Message}");
        }
    }

    private static bool SynDataAcknowledged(Socket socket)
    {
        try
        {
            return TcpConnectionInfo.Read(socket).ReceivedSynData;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>The answer's first line, which for HTTP is the status line, with control characters made visible.</summary>
    private static string FirstLine(ReadOnlySpan<byte> answer)
    {
        var end = answer.IndexOfAny((byte)'\r', (byte)'\n');
        var line = Encoding.ASCII.GetString(end < 0 ? answer : answer[..end]);
        return line.Length == 0 ? "no bytes" : $"`{new string([.. line.Select(c => char.IsControl(c) ? '?' : c)])}`";
    }
}
