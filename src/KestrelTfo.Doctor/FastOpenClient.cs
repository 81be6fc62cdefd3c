using System.Net;
using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.Doctor;

/// <summary>
/// A client connection with <c>TCP_FASTOPEN_CONNECT</c>: without a cookie for the server, connect does a handshake
/// that asks for one; with a cookie, connect returns at once and the first write goes out in the SYN.
/// </summary>
internal static class FastOpenClient
{
    /// <summary>Sends <paramref name="payload"/> and reads the answer until a newline, <paramref name="answerLimit"/> bytes or the end.</summary>
    public static async Task<FastOpenExchange> ExchangeAsync(
        IPEndPoint server, ReadOnlyMemory<byte> payload, int answerLimit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            FastOpenConnect.Set(socket, enabled: true);
        }
        catch (SocketException e)
        {
            return new FastOpenExchange(false, false, default, $"the kernel refused TCP_FASTOPEN_CONNECT ({e.Message}); it needs Linux 4.11 or later", KernelRefused: true);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var answer = new byte[answerLimit];
        var length = 0;
        try
        {
            await socket.ConnectAsync(server, deadline.Token);
            await socket.SendAsync(payload, SocketFlags.None, deadline.Token);
            while (length < answer.Length)
            {
                var read = await socket.ReceiveAsync(answer.AsMemory(length), SocketFlags.None, deadline.Token);
                if (read == 0 || answer.AsSpan(length, read).Contains((byte)'\n'))
                {
                    length += read;
                    break;
                }

                length += read;
            }

            // An answer means the handshake is over, so TCP_INFO knows whether the SYN's data was acknowledged.
            return new FastOpenExchange(true, TcpConnectionInfo.Read(socket).ReceivedSynData, answer.AsMemory(0, length), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new FastOpenExchange(length > 0, TcpConnectionInfo.Read(socket).ReceivedSynData, answer.AsMemory(0, length),
                $"no answer from {server} within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            return new FastOpenExchange(length > 0, TcpConnectionInfo.Read(socket).ReceivedSynData, answer.AsMemory(0, length),
                $"{server}: {e.Message}");
        }
    }
}
