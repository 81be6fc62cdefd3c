using System.Net;
using System.Net.Sockets;
using KestrelTfo.EarlyData;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KestrelTfo.Internal;

/// <summary>
/// Makes one listener's socket: the app's <see cref="FastOpenTransportOptions.CreateBoundListenSocket"/>, TCP Fast Open
/// with the queue length, the cookie keys, the guard's filter and <c>listen</c>, in the order the OS needs; then says
/// in one line what took effect. Sets the cookie keys again when they are reloaded.
/// </summary>
internal sealed class FastOpenListenSocketSetup(FastOpenTransportOptions options, EarlyDataGuard guard, KernelSupport kernel, ILogger logger)
{
    /// <summary>The OS accepted <c>TCP_FASTOPEN</c> on the listening socket.</summary>
    public bool FastOpenEnabled { get; private set; }

    /// <summary>Why <see cref="FastOpenEnabled"/> is false.</summary>
    public string? FastOpenError { get; private set; }

    /// <summary>The listening socket accepts data in SYNs without a cookie (<c>TCP_FASTOPEN_NO_COOKIE</c>).</summary>
    public bool AcceptsDataWithoutCookie { get; private set; }

    /// <summary>Creates, sets up and starts a listening socket for <paramref name="endPoint"/>.</summary>
    /// <param name="endPoint">Where to listen; port 0 picks a free port.</param>
    /// <param name="cookieKeys">The listener's own cookie keys (<c>TCP_FASTOPEN_KEY</c>), or null for the kernel's.</param>
    /// <exception cref="AddressInUseException">The address is taken.</exception>
    /// <exception cref="InvalidOperationException">The app's socket is no TCP socket on an IP endpoint, or
    /// <see cref="FastOpenTransportOptions.RequireFastOpen"/> is set and TCP Fast Open is off.</exception>
    public Socket Listen(EndPoint endPoint, byte[]? cookieKeys)
    {
        Socket socket;
        try
        {
            socket = options.CreateBoundListenSocket(endPoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }

        if (socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || socket.SocketType != SocketType.Stream)
        {
            var kind = $"{socket.AddressFamily} {socket.SocketType}";
            socket.Dispose();
            throw new InvalidOperationException(
                $"{nameof(FastOpenTransportOptions.CreateBoundListenSocket)} must return a TCP socket bound to an IP endpoint for {endPoint}, not a {kind} socket.");
        }

        try
        {
            var tryFastOpen = guard.AllowsFastOpen(endPoint);
            if (!tryFastOpen)
            {
                FastOpenError = "this OS does not tell which connections carried data in their SYN, and AllowUnguardedEarlyData is not set";
            }

            // Set even when the kernel's server bit is off: the listener then starts using TCP Fast Open as soon as an
            // administrator fixes the sysctl, without a restart.
            if (tryFastOpen && !FastOpenListenSocket.EnableAfterListen)
            {
                TryEnableFastOpen(socket, endPoint);
                EnsureRequiredFastOpen(endPoint);
            }

            if (FastOpenEnabled && cookieKeys is not null)
            {
                TrySetCookieKeys(socket, endPoint, cookieKeys);
            }

            // Before listen: a SYN that arrives in between must meet the filter already.
            guard.Prepare(socket, endPoint, FastOpenEnabled || (tryFastOpen && FastOpenListenSocket.EnableAfterListen));
            socket.Listen(options.Backlog);

            if (tryFastOpen && FastOpenListenSocket.EnableAfterListen)
            {
                TryEnableFastOpen(socket, endPoint);
            }

            EnsureRequiredFastOpen(endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var bound = socket.LocalEndPoint!;
        AcceptsDataWithoutCookie = FastOpenEnabled && FastOpenListenSocket.AcceptsDataWithoutCookie(socket);
        if (AcceptsDataWithoutCookie)
        {
            FastOpenLog.ListenerAcceptsDataWithoutCookie(logger, bound);
        }

        var state = !FastOpenEnabled ? $"off ({FastOpenError})"
            : kernel.ServerEnabled ? "on"
            : $"off until {LinuxFastOpenSysctl.Name} has the server bit 0x2 ({kernel.Setting})";
        var keys = !FastOpenEnabled ? "none in use"
            : cookieKeys is null ? "the kernel's"
            : cookieKeys.Length > FastOpenCookieKey.Length ? "configured, with a backup" : "configured";
        FastOpenLog.ListenerStarted(logger, bound, state, options.QueueLength, keys, guard.Handling);
        return socket;
    }

    /// <summary>The error of a bind that <see cref="FastOpenTransportOptions.RequireFastOpen"/> fails.</summary>
    internal static InvalidOperationException RequiredButOff(string problemAndFix) =>
        new($"TCP Fast Open is required (RequireFastOpen) but is off for servers: {problemAndFix}");

    /// <summary>Sets a listening socket's cookie keys; false, logged, when the kernel refuses them.</summary>
    public bool TrySetCookieKeys(Socket socket, EndPoint endPoint, byte[] cookieKeys)
    {
        try
        {
            try
            {
                FastOpenListenSocket.SetCookieKeys(socket, cookieKeys);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.InvalidArgument && cookieKeys.Length > FastOpenCookieKey.Length)
            {
                // Before Linux 5.3 a listener takes one key only: keep the primary, so the fleet still shares it.
                FastOpenListenSocket.SetCookieKeys(socket, cookieKeys.AsSpan(0, FastOpenCookieKey.Length));
                FastOpenLog.BackupCookieKeyUnsupported(logger, endPoint);
            }

            return true;
        }
        catch (SocketException e)
        {
            FastOpenLog.CookieKeysFailed(logger, endPoint, e.SocketErrorCode, e.Message);
            return false;
        }
        catch (ObjectDisposedException)
        {
            // Unbound while the keys rotated: nothing left to key.
            return false;
        }
    }

    /// <summary>With <see cref="FastOpenTransportOptions.RequireFastOpen"/>, a listener without TCP Fast Open fails its bind.</summary>
    private void EnsureRequiredFastOpen(EndPoint endPoint)
    {
        if (options.RequireFastOpen && !FastOpenEnabled)
        {
            throw RequiredButOff(kernel.Explain($"TCP Fast Open is off on {endPoint}: {FastOpenError}"));
        }
    }

    private void TryEnableFastOpen(Socket socket, EndPoint endPoint)
    {
        try
        {
            FastOpenListenSocket.Enable(socket, options.QueueLength);
            FastOpenEnabled = true;
        }
        catch (SocketException e)
        {
            FastOpenError = $"{e.SocketErrorCode}: {e.Message}";
            FastOpenLog.ListenerFastOpenFailed(logger, endPoint, e.SocketErrorCode, e.Message);
        }
    }
}
