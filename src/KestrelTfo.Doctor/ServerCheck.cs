using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.Doctor;

/// <summary>
/// Checks a running server from the client side: a first TCP Fast Open connection to get a cookie, then more whose first
/// write (a plaintext <c>HEAD</c>, or a TLS ClientHello for an https target) rides in the SYN; each client's
/// <c>TCP_INFO</c> says whether the server took that data. Over several connections the share of them tells whether
/// every instance behind the address accepts one cookie.
/// </summary>
internal static class ServerCheck
{
    // Each address may take the whole timeout to fail, so a name with many stops being tried after a few.
    private const int MaxAddresses = 4;

    /// <summary>Resolves the target and checks the server at the first of its addresses that answers.</summary>
    /// <param name="report">Where the checks go.</param>
    /// <param name="target">The server.</param>
    /// <param name="connections">How many connections follow the cookie connection.</param>
    /// <param name="netstat">The kernel's counters, for the report.</param>
    /// <param name="sendsDataWithoutCookie">This machine's setting has bit 0x4, so its SYNs carry data without a cookie.</param>
    /// <param name="timeout">How long each step may take.</param>
    /// <param name="cancellationToken">Ends the check.</param>
    public static async Task RunAsync(
        DoctorReport report, CheckTarget target, int connections, LinuxNetstat netstat, bool sendsDataWithoutCookie, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(report, target, timeout, cancellationToken);
        if (addresses is not null)
        {
            await RunAsync(report, target, addresses, connections, netstat, sendsDataWithoutCookie, timeout, cancellationToken);
        }
    }

    /// <summary>
    /// Checks the server at the first of <paramref name="addresses"/> that answers, as a browser would pick one, from a
    /// machine whose setting lacks bit 0x4 (the tests' names resolve to addresses they choose).
    /// </summary>
    internal static async Task RunAsync(
        DoctorReport report, CheckTarget target, IReadOnlyList<IPAddress> addresses, int connections, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var netstat = new LinuxNetstat();
        await RunAsync(report, target, addresses, connections, netstat, sendsDataWithoutCookie: false, timeout, cancellationToken);
    }

    private static async Task RunAsync(
        DoctorReport report,
        CheckTarget target,
        IReadOnlyList<IPAddress> addresses,
        int connections,
        LinuxNetstat netstat,
        bool sendsDataWithoutCookie,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var server = await CheckFastOpenAsync(report, target, addresses, connections, netstat, sendsDataWithoutCookie, timeout, cancellationToken);
        if (server is not null && target.Tls && OperatingSystem.IsLinux() && OpenSsl.OpenSslLibrary.UnavailableReason is null)
        {
            await EarlyDataCheck.RunAsync(report, target, server, timeout, cancellationToken);
        }
    }

    /// <summary>The TCP Fast Open checks; the address that answered, or null when none did.</summary>
    private static async Task<IPEndPoint?> CheckFastOpenAsync(
        DoctorReport report,
        CheckTarget target,
        IReadOnlyList<IPAddress> addresses,
        int connections,
        LinuxNetstat netstat,
        bool sendsDataWithoutCookie,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(addresses.Count);
        var request = Encoding.ASCII.GetBytes($"HEAD / HTTP/1.1\r\nHost: {target.Host}\r\nConnection: close\r\n\r\n");
        Task<FastOpenExchange> ExchangeAsync(IPEndPoint server) => target.Tls
            ? FastOpenClient.ExchangeTlsAsync(server, target.Host, timeout, cancellationToken)
            : FastOpenClient.ExchangeAsync(server, request, timeout, cancellationToken);
        var what = target.Tls ? "ClientHello" : $"{request.Length}-byte HEAD request";

        var tried = addresses.Take(MaxAddresses).Select(address => new IPEndPoint(address, target.Port)).ToArray();
        var unanswered = new List<string>();
        IPEndPoint? server = null;
        FastOpenExchange? first = null;
        foreach (var candidate in tried)
        {
            server = candidate;
            first = await ExchangeAsync(server);
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
            Fail(report, DoctorExitCode.ServerCheckFailed, "server-cookie", "no answer", string.Join("; ", unanswered),
                first?.KernelRefused == true ? "use Linux 4.11 or later for the client side of the check" : $"start the server, or check that {where} it listens on and that nothing between blocks it");
            return null;
        }

        // The kernel keeps cookies per destination address, so the later connections go where the first was answered.
        var others = unanswered.Count == 0 ? "" : $" ({server} answered; not {string.Join("; ", unanswered)})";
        report.Add(new DoctorCheck("server-cookie", true, first.Answer, (first.SynDataAcknowledged
            ? sendsDataWithoutCookie
                ? $"this connection's {what} rode in the SYN without a cookie (bit 0x4), and the server took it: it takes data in SYNs from anyone"
                : $"a cookie for this server was cached from an earlier connection, so this connection's {what} rode in the SYN already"
            : $"the first connection asked for a cookie and sent its {what} after the handshake") + others));

        netstat.TryRead(out var before);
        var accepted = 0;
        FastOpenExchange? failed = null;
        FastOpenExchange last = first;
        for (var i = 0; i < connections; i++)
        {
            last = await ExchangeAsync(server);
            if (last.SynDataAcknowledged)
            {
                accepted++;
            }
            else
            {
                failed ??= last;
            }
        }

        var fleet = new DoctorFleet(target.Tls ? "tls_client_hello" : "http", connections, accepted);
        report.Fleet = fleet;
        var counters = netstat.TryRead(out var after)
            ? $" (here: TCPFastOpenActive +{after[TcpFastOpenCounter.Active] - before[TcpFastOpenCounter.Active]}, TCPFastOpenActiveFail +{after[TcpFastOpenCounter.ActiveFail] - before[TcpFastOpenCounter.ActiveFail]})"
            : "";
        var value = connections == 1 ? (accepted == 1 ? "accepted" : "not accepted") : $"{accepted} of {connections} accepted";
        var share = connections == 1 ? "" : $"; {fleet.Share}: {fleet.Meaning}";
        if (accepted == connections)
        {
            // The kernel took the data; the app may still have refused the connection, which is worth saying.
            var answered = last.Error is null ? $"it answered {last.Answer}" : $"then the connection failed ({last.Error})";
            report.Add(new DoctorCheck("server-syn-data", true, value,
                $"the server acknowledged the {what} in the SYN (client TCP_INFO TCPI_OPT_SYN_DATA); {answered}{share}{counters}"));
            return server;
        }

        var why = failed!.Error ?? $"it answered {failed.Answer} but ignored the data in the SYN";
        var plaintextHint = target.Tls ? "" :
            "; a listener whose EarlyDataPolicy is Defer refuses plaintext early data by design, so check its TLS endpoint with --check https://HOST:PORT";
        Fail(report, accepted == 0 ? DoctorExitCode.ServerCheckFailed : DoctorExitCode.SomeConnections, "server-syn-data", value,
            $"the {what} was not acknowledged in the SYN: {why}{share}{counters}",
            accepted == 0
                ? $"on the server, run kestreltfo-doctor: its {LinuxFastOpenSysctl.Name} needs the server bit 0x2; make sure the app calls UseFastOpenTransport() on that endpoint, and that nothing between here and there strips the TCP Fast Open option or drops SYNs with data{plaintextHint}"
                : "give every instance behind the address the same CookieKey, and make sure each sees the same server address (anycast, ECMP or direct server return rather than DNAT)");

        return server;
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
            Fail(report, DoctorExitCode.ServerCheckFailed, "server-cookie", "unresolved", $"{target.Host} does not resolve: {e.Message}", $"check the host name {target.Host}");
            return null;
        }

        Fail(report, DoctorExitCode.ServerCheckFailed, "server-cookie", "unresolved", $"{target.Host} has no address", $"check the host name {target.Host}");
        return null;
    }

    private static void Fail(DoctorReport report, DoctorExitCode exitCode, string name, string value, string detail, string fix)
    {
        report.Add(new DoctorCheck(name, false, value, detail));
        report.Fail(exitCode, new DoctorFix(fix, []));
    }
}
