using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.Doctor;

/// <summary>
/// Checks a running server from the client side: two TCP Fast Open connections to it, the first to get a cookie,
/// the second with its request in the SYN; the client's <c>TCP_INFO</c> says whether the server took that data.
/// </summary>
internal static class ServerCheck
{
    private const int AnswerLimit = 512;

    // Each address may take the whole timeout to fail, so a name with many stops being tried after a few.
    private const int MaxAddresses = 4;

    public static async Task RunAsync(DoctorReport report, CheckTarget target, LinuxNetstat netstat, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(report, target, timeout, cancellationToken);
        if (addresses is not null)
        {
            await RunAsync(report, target.ToString(), addresses, target.Port, netstat, timeout, cancellationToken);
        }
    }

    /// <summary>Checks the server at the first of <paramref name="addresses"/> that answers, as a browser would pick one.</summary>
    internal static async Task RunAsync(
        DoctorReport report, string host, IReadOnlyList<IPAddress> addresses, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var netstat = new LinuxNetstat();
        await RunAsync(report, host, addresses, port, netstat, timeout, cancellationToken);
    }

    private static async Task RunAsync(
        DoctorReport report, string host, IReadOnlyList<IPAddress> addresses, int port, LinuxNetstat netstat, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(addresses.Count);
        var request = Encoding.ASCII.GetBytes($"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        var tried = addresses.Take(MaxAddresses).Select(address => new IPEndPoint(address, port)).ToArray();
        var unanswered = new List<string>();
        IPEndPoint? server = null;
        FastOpenExchange? first = null;
        foreach (var candidate in tried)
        {
            server = candidate;
            first = await FastOpenClient.ExchangeAsync(server, request, AnswerLimit, timeout, cancellationToken);
            if (first.Answered)
            {
                break;
            }

            unanswered.Add(first.Error ?? $"{server} closed the connection without a word");
            // A refusal by this machine's kernel would be the same for every address.
            if (first.KernelRefused)
            {
                break;
            }
        }

        if (server is null || first is not { Answered: true })
        {
            var where = tried.Length == 1
                ? $"{server} is the address"
                : $"one of {string.Join(", ", tried.Select(endPoint => endPoint.Address))} is an address" +
                  (addresses.Count > tried.Length ? $" (the name has {addresses.Count - tried.Length} more, not tried)" : "");
            Fail(report, "server-cookie", "no answer", string.Join("; ", unanswered),
                first?.KernelRefused == true ? "use Linux 4.11 or later for the client side of the check" : $"start the server, or check that {where} it listens on and that nothing between blocks it");
            return;
        }

        // The kernel keeps cookies per destination address, so the second connection goes where the first was answered.
        var others = unanswered.Count == 0 ? "" : $" ({server} answered; not {string.Join("; ", unanswered)})";
        report.Add(new DoctorCheck("server-cookie", true, Describe(first), (first.SynDataAcknowledged
            ? "a cookie for this server was cached from an earlier connection, so this connection's request rode in the SYN already"
            : "the first connection asked for a cookie and sent its request after the handshake") + others));

        netstat.TryRead(out var before);
        var second = await FastOpenClient.ExchangeAsync(server, request, AnswerLimit, timeout, cancellationToken);
        var counters = netstat.TryRead(out var after)
            ? $" (here: TCPFastOpenActive +{after[TcpFastOpenCounter.Active] - before[TcpFastOpenCounter.Active]}, TCPFastOpenActiveFail +{after[TcpFastOpenCounter.ActiveFail] - before[TcpFastOpenCounter.ActiveFail]})"
            : "";
        if (second.SynDataAcknowledged)
        {
            // The kernel took the data; the app may still have refused the connection, which is worth saying.
            var answered = second.Error is null
                ? $"it answered {Describe(second)}"
                : $"then the connection failed ({second.Error}): an early-data policy of Reject refuses plaintext data in a SYN, while a TLS ClientHello is always taken";
            report.Add(new DoctorCheck("server-syn-data", true, "accepted",
                $"the server acknowledged the {request.Length} bytes of the second connection's SYN (client TCP_INFO TCPI_OPT_SYN_DATA); " +
                $"{answered}{counters}"));
            return;
        }

        var why = second.Error is not null ? second.Error : $"it answered {Describe(second)} but ignored the data in the SYN";
        Fail(report, "server-syn-data", "not accepted", $"the second connection's data was not acknowledged in the SYN: {why}{counters}",
            $"on the server, run kestreltfo-doctor: its {LinuxFastOpenSysctl.Name} needs the server bit 0x2; make sure the app " +
            "calls UseFastOpenTransport() on that endpoint, and that nothing between here and there strips the TCP Fast Open " +
            "option or drops SYNs with data");
    }

    private static async Task<IPAddress[]?> ResolveAsync(DoctorReport report, CheckTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(target.Host, out var address))
        {
            return [address];
        }

        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            var addresses = await Dns.GetHostAddressesAsync(target.Host, deadline.Token);
            if (addresses.Length > 0)
            {
                return addresses;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Fail(report, "server-cookie", "unresolved", $"{target.Host} does not resolve: {e.Message}", $"check the host name {target.Host}");
            return null;
        }

        Fail(report, "server-cookie", "unresolved", $"{target.Host} has no address", $"check the host name {target.Host}");
        return null;
    }

    /// <summary>The answer's first line, which for HTTP is the status line.</summary>
    private static string Describe(FastOpenExchange exchange)
    {
        var answer = exchange.Answer.Span;
        var end = answer.IndexOfAny((byte)'\r', (byte)'\n');
        var line = Encoding.ASCII.GetString(end < 0 ? answer : answer[..end]);
        return line.Length == 0 ? "with no bytes" : $"`{new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray())}`";
    }

    private static void Fail(DoctorReport report, string name, string value, string detail, string fix)
    {
        report.Add(new DoctorCheck(name, false, value, detail));
        report.Fail(DoctorExitCode.ServerCheckFailed, new DoctorFix(fix, []));
    }
}
