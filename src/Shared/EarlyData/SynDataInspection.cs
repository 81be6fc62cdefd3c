using System.Net.Sockets;
using KestrelTfo.Platform;

namespace KestrelTfo.EarlyData;

/// <summary>
/// What one accepted connection brought in its SYN, as the kernel tells it at accept: <c>TCP_INFO</c>, and for a SYN
/// whose data was taken, a peek at the first bytes of that data and their classification.
/// </summary>
/// <param name="Info">The accepted socket's <c>TCP_INFO</c>.</param>
/// <param name="Length">
/// How many bytes of early data there are: the kernel's count, or what the peek saw where the kernel gives no count
/// (before Linux 4.1). 0 without SYN data.
/// </param>
/// <param name="PeekedLength">How many of them were peeked into the caller's buffer.</param>
/// <param name="Classification">What the peeked bytes are.</param>
internal readonly record struct SynDataInspection(TcpConnectionInfo Info, int Length, int PeekedLength, EarlyDataClassification Classification)
{
    /// <summary>Enough of the early data to classify it, and to make a debounce hash unique per real ClientHello (its random).</summary>
    public const int PeekedBytes = 256;

    /// <summary>Inspects an accepted socket (Linux only). Never blocks: the peek happens only when the poll says data is queued.</summary>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="head">Where the first bytes of the early data go; <see cref="PeekedBytes"/> long.</param>
    /// <exception cref="SocketException">The peer reset the connection.</exception>
    public static SynDataInspection Inspect(Socket socket, Span<byte> head)
    {
        var info = TcpConnectionInfo.Read(socket);
        if (!info.ReceivedSynData)
        {
            return new SynDataInspection(info, 0, 0, EarlyDataClassification.None);
        }

        // TCPI_OPT_SYN_DATA means the SYN's data is queued, yet an accept loop must never block on a peek: the poll
        // makes sure. Data that cannot be seen is not assumed safe.
        var peeked = socket.Poll(0, SelectMode.SelectRead) ? socket.Receive(head, SocketFlags.Peek) : 0;
        var classification = peeked == 0 ? EarlyDataClassification.Unknown : EarlyDataClassifier.Classify(head[..peeked]);
        return new SynDataInspection(info, Math.Max(info.BytesReceived, peeked), peeked, classification);
    }
}
