using System.Net.Sockets;
using System.Text;
using KestrelTfo.Fleet;
using KestrelTfo.Platform;

namespace KestrelTfo.FleetBenchmark;

/// <summary>
/// Opens new connections to the fleet's service address continuously from the client's namespace, each with
/// <c>TCP_FASTOPEN_CONNECT</c> and one <c>GET /</c>, and counts each in the phase it started in: failed (no whole 200
/// answer), or answered, with or without its request taken in the SYN (the client's <c>TCP_INFO</c>).
/// </summary>
internal sealed class LoadClient(EmulatedFleet fleet)
{
    private static readonly TimeSpan s_connectionTimeout = TimeSpan.FromSeconds(10);
    private readonly byte[] _request = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {fleet.ServiceEndPoint}\r\nConnection: close\r\n\r\n");
    private LoadPhase? _phase;

    /// <summary>Starts counting in a new phase and ends the one before.</summary>
    public LoadPhase Begin(string name)
    {
        var phase = new LoadPhase(name);
        Interlocked.Exchange(ref _phase, phase)?.End();
        return phase;
    }

    /// <summary>Runs <paramref name="workers"/> connections at a time until <paramref name="stop"/>; ones in flight finish.</summary>
    public Task RunAsync(int workers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(stop), CancellationToken.None)));

    private async Task WorkAsync(CancellationToken stop)
    {
        var answer = new byte[4096];
        while (!stop.IsCancellationRequested)
        {
            var phase = Volatile.Read(ref _phase) ?? throw new InvalidOperationException("no phase begun");
            await ConnectOnceAsync(phase, answer).ConfigureAwait(false);
        }
    }

    private async Task ConnectOnceAsync(LoadPhase phase, byte[] answer)
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
            while (length < answer.Length && (read = await socket.ReceiveAsync(answer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            var text = Encoding.ASCII.GetString(answer, 0, length);
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
}
