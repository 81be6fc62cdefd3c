using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.Doctor;

/// <summary>
/// Proves TCP Fast Open end to end on this machine: a loopback listener with <c>TCP_FASTOPEN</c>, a first connection
/// that fetches a cookie, and a second whose data must arrive in its SYN, as both ends' <c>TCP_INFO</c> and the
/// kernel's counters tell.
/// </summary>
internal static class LoopbackSelfTest
{
    private const int QueueLength = 16;

    private static readonly byte[] s_cookiePayload = Encoding.ASCII.GetBytes("kestreltfo-doctor: cookie\n");
    private static readonly byte[] s_synPayload = Encoding.ASCII.GetBytes("kestreltfo-doctor: data in the SYN\n");

    public static async Task RunAsync(
        DoctorReport report, LinuxNetstat netstat, IPAddress? address, bool sendsDataWithoutCookie, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Linux caches cookies per destination address: an address no earlier run used makes the first
        // connection a real cookie request instead of one that silently reuses an old cookie.
        address ??= new IPAddress([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(1, 255)]);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, 0));
            FastOpenListenSocket.Enable(listener, QueueLength);
            listener.Listen();
        }
        catch (SocketException e)
        {
            Fail(report, "listener", $"{address}", $"a loopback listener with TCP_FASTOPEN failed: {e.Message}",
                $"the kernel refused a loopback listener with TCP_FASTOPEN ({e.Message}): use a Linux kernel with TCP Fast Open (3.7 or later) and bring loopback up (`ip link set lo up`)");
            return;
        }

        var server = (IPEndPoint)listener.LocalEndPoint!;
        report.Add(new DoctorCheck("listener", true, $"{server}", $"TCP_FASTOPEN accepted on a loopback listener (queue {QueueLength})"));

        var countersBefore = Read(netstat);
        var (cookie, cookieSynData) = await ConnectAsync(listener, server, s_cookiePayload, timeout, cancellationToken);
        var countersBetween = Read(netstat);
        if (cookie.Error is not null)
        {
            Fail(report, "cookie", "failed", cookie.Error, ConnectionFix(cookie.Error));
            return;
        }

        var cookieRequests = Delta(countersBefore, countersBetween, TcpFastOpenCounter.CookieReqd);
        if (cookieSynData && sendsDataWithoutCookie)
        {
            report.Add(new DoctorCheck("cookie", true, "not asked for",
                "the first connection's data rode in its SYN without a cookie (bit 0x4), and the listener took it (bit 0x200)"));
        }
        else if (cookieSynData)
        {
            report.Add(new DoctorCheck("cookie", true, "already cached",
                "the first connection's data rode in its SYN: a cookie for this address was cached from an earlier run, so the cookie request was not observed"));
        }
        else if (cookieRequests > 0 || countersBefore is null || countersBetween is null)
        {
            report.Add(new DoctorCheck("cookie", true, "requested",
                $"the first connection asked for a cookie and sent its data after the handshake (TCPFastOpenCookieReqd +{cookieRequests})"));
        }
        else
        {
            Fail(report, "cookie", "not requested",
                "the first connection neither carried its data in the SYN nor asked for a cookie (TCPFastOpenCookieReqd +0)",
                NoCookieRequestFix(sendsDataWithoutCookie));
        }

        var (synData, serverSynData) = await ConnectAsync(listener, server, s_synPayload, timeout, cancellationToken);
        var countersAfter = Read(netstat);
        if (synData.Error is not null)
        {
            Fail(report, "syn-data-server", "failed", synData.Error, ConnectionFix(synData.Error));
            return;
        }

        var refused = countersAfter is { } after
            ? $" (TCPFastOpenPassiveFail {after[TcpFastOpenCounter.PassiveFail]}, TCPFastOpenListenOverflow {after[TcpFastOpenCounter.ListenOverflow]})"
            : "";
        var notAccepted = $"the kernel did not take the data in a loopback SYN although {LinuxFastOpenSysctl.Name} has the client and server bits: " +
                          $"look for a firewall rule or security module that drops SYNs with data or strips the TCP Fast Open option{refused}";
        if (serverSynData)
        {
            report.Add(new DoctorCheck("syn-data-server", true, "accepted",
                $"the accepted socket's TCP_INFO has TCPI_OPT_SYN_DATA: the listener got the second connection's {s_synPayload.Length} bytes in its SYN"));
        }
        else
        {
            Fail(report, "syn-data-server", "not accepted",
                $"the accepted socket's TCP_INFO lacks TCPI_OPT_SYN_DATA: the second connection's data came after the handshake{refused}", notAccepted);
        }

        if (synData.SynDataAcknowledged)
        {
            report.Add(new DoctorCheck("syn-data-client", true, "acknowledged",
                "the client's TCP_INFO has TCPI_OPT_SYN_DATA: the SYN-ACK acknowledged the data in its SYN"));
        }
        else
        {
            Fail(report, "syn-data-client", "not acknowledged",
                "the client's TCP_INFO lacks TCPI_OPT_SYN_DATA: the SYN-ACK did not acknowledge the data in its SYN", notAccepted);
        }

        if (countersBetween is null || countersAfter is null)
        {
            Fail(report, "counters", "unreadable", netstat.Error ?? $"{LinuxNetstat.DefaultPath} has no TCP Fast Open counters",
                $"mount /proc so that {LinuxNetstat.DefaultPath} is readable; the kernel's TCP Fast Open counters are there");
            return;
        }

        var passive = Delta(countersBetween, countersAfter, TcpFastOpenCounter.Passive);
        var active = Delta(countersBetween, countersAfter, TcpFastOpenCounter.Active);
        var value = $"TCPFastOpenPassive +{passive}, TCPFastOpenActive +{active}";
        if (passive >= 1 && active >= 1)
        {
            report.Add(new DoctorCheck("counters", true, value, "the kernel counted the second connection as TCP Fast Open on both ends"));
        }
        else
        {
            Fail(report, "counters", value,
                $"the kernel did not count the second connection as TCP Fast Open on both ends{refused}", notAccepted);
        }
    }

    /// <summary>One client connection and its accepted end: the client's view, and whether the server saw data in the SYN.</summary>
    private static async Task<(FastOpenExchange Client, bool ServerSynData)> ConnectAsync(
        Socket listener, IPEndPoint server, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Without a cookie the client's connect waits for the handshake, which the kernel finishes before accept;
        // with one, connect returns at once and the SYN leaves with the first write. Either way the client runs alone.
        var client = FastOpenClient.ExchangeAsync(server, payload, timeout, cancellationToken, answerLimit: 1);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var serverSynData = false;
        try
        {
            using var accepted = await listener.AcceptAsync(deadline.Token);
            serverSynData = TcpConnectionInfo.Read(accepted).ReceivedSynData;
            var received = new byte[payload.Length];
            var length = 0;
            while (length < received.Length)
            {
                var read = await accepted.ReceiveAsync(received.AsMemory(length), SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            serverSynData &= received.AsSpan(0, length).SequenceEqual(payload);
            await accepted.SendAsync(new byte[] { (byte)'\n' }, SocketFlags.None, deadline.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The client's side says what went wrong; it times out on its own.
        }

        return (await client, serverSynData);
    }

    private static TcpFastOpenCounters? Read(LinuxNetstat netstat) =>
        netstat.TryRead(out var counters) && counters.IsPresent(TcpFastOpenCounter.Passive) ? counters : null;

    private static long Delta(TcpFastOpenCounters? before, TcpFastOpenCounters? after, TcpFastOpenCounter counter) =>
        before is { } b && after is { } a ? a[counter] - b[counter] : 0;

    private static string ConnectionFix(string error) =>
        $"a loopback connection with TCP_FASTOPEN_CONNECT failed ({error}): bring loopback up (`ip link set lo up`), " +
        "allow TCP on it, and use Linux 4.11 or later";

    private static string NoCookieRequestFix(bool sendsDataWithoutCookie) =>
        sendsDataWithoutCookie
            ? $"{LinuxFastOpenSysctl.Name} has bit 0x4: clients send data in SYNs without asking for a cookie, which a server takes only with bit 0x200 (and then from anyone). Set it to 3: `sysctl -w {LinuxFastOpenSysctl.Name}=3`"
            : "the client asked for no cookie although the client bit is on: look for a firewall rule or security module that strips the TCP Fast Open option";

    private static void Fail(DoctorReport report, string name, string value, string detail, string fix)
    {
        report.Add(new DoctorCheck(name, false, value, detail));
        report.Fail(DoctorExitCode.SelfTestFailed, new DoctorFix(fix, []));
    }
}
