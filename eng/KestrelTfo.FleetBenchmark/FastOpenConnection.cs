using System.Net.Sockets;
using System.Text;
using KestrelTfo.Fleet;
using KestrelTfo.Platform;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// A new connection to the service address with <c>TCP_FASTOPEN_CONNECT</c> and one <c>GET /</c>: the round trip is
/// saved when the request rode in the SYN (the client's <c>TCP_INFO</c>).
/// </summary>
internal sealed class FastOpenConnection(EmulatedFleet fleet) : ILoadConnection
{
    private static readonly TimeSpan s_connectionTimeout = TimeSpan.FromSeconds(10);
    private readonly byte[] _request = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {fleet.ServiceEndPoint}\r\nConnection: close\r\n\r\n");
    private readonly byte[] _answer = new byte[4096];

    public async Task ConnectOnceAsync(LoadPhase phase)
    {
        using var socket = fleet.Client.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(s_connectionTimeout);
        try
        {
            FastOpenConnect.Set(socket, enabled: true);
            await socket.ConnectAsync(fleet.ServiceEndPoint, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(_request, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var length = 0;
            int read;
            while (length < _answer.Length && (read = await socket.ReceiveAsync(_answer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            var text = Encoding.ASCII.GetString(_answer, 0, length);
            if (text.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal) && text.EndsWith('\n'))
            {
                phase.Succeeded(TcpConnectionInfo.Read(socket).ReceivedSynData);
            }
            else
            {
                phase.Fail($"answer: {text.Split('\n')[0].Trim()}");
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            phase.Fail(e.Message);
        }
    }

    public void Dispose()
    {
    }
}
