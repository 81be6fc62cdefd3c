using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace KestrelTfo.OpenSsl.Client;

/// <summary>
/// One client connection's TLS on OpenSSL over a socket, through two memory BIOs: SNI, ALPN, resumption with a stored
/// session, and early data in the first flight, with the ClientHello. The first flight is made before the socket
/// connects, so that with <c>TCP_FASTOPEN_CONNECT</c> and a cookie it goes out in the SYN. Owns the socket. One OpenSSL
/// call at a time (an SSL is not thread safe), each call's errors read on the thread that made it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OpenSslClientConnection : Stream
{
    private const int BufferSize = 16 * 1024;

    // A certificate chain is a few kilobytes; a server that sends this much without finishing is not doing TLS.
    private const int MaxHandshakeBytes = 256 * 1024;

    // Records that carry no data (tickets, key updates) are small; this much ciphertext without a byte of data is abuse.
    private const int MaxBytesWithoutData = 1024 * 1024;

    private readonly OpenSslClientContext _context;
    private readonly Socket _socket;
    private readonly EndPoint _server;
    private readonly string _hostName;
    private readonly string _sessionKey;
    private readonly MemoryBioSsl _tls;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _received = new byte[BufferSize];
    private readonly byte[] _toSend = new byte[BufferSize];
    private readonly byte[] _peeked = new byte[1];
    private ReadOnlyMemory<byte> _earlyData;
    private string? _validationFailure;
    private Exception? _validatorException;
    private int _sessionsKept;
    private int _reads;
    private int _disposed;

    private OpenSslClientConnection(OpenSslClientContext context, Socket socket, EndPoint server, string hostName, string sessionKey, MemoryBioSsl tls)
    {
        _context = context;
        _socket = socket;
        _server = server;
        _hostName = hostName;
        _sessionKey = sessionKey;
        _tls = tls;
    }

    /// <summary>What the handshake settled; null until <see cref="HandshakeAsync"/> completes.</summary>
    public OpenSslClientHandshake? Handshake { get; private set; }

    /// <summary>
    /// How long a connection disposed before its server gave it a session keeps reading for one, in the background, or
    /// zero not to. A TLS 1.3 ticket comes after the server has the client's Finished, so a connection whose response came
    /// from early data and that is closed as soon as it is read (<c>Connection: close</c>) would otherwise leave the next
    /// connection no ticket, and so no early data, every other time.
    /// </summary>
    public TimeSpan SessionLinger { get; set; }

    /// <summary>The bytes of the first flight (the ClientHello, and the early data behind it), 0 before <see cref="HandshakeAsync"/>.</summary>
    public int FirstFlightBytes { get; private set; }

    /// <summary>Whether the SSL and both BIO references are freed (after <see cref="Stream.Dispose()"/>).</summary>
    internal bool IsReleased => _tls.IsReleased;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// A connection over <paramref name="socket"/>, which it owns from now on (it is disposed with the connection, also
    /// when this throws). The handshake starts with <see cref="HandshakeAsync"/>.
    /// </summary>
    /// <param name="context">The client's settings and sessions.</param>
    /// <param name="socket">Connected, or not yet: then the handshake connects it to <paramref name="server"/> with its first flight ready, so a socket with <c>TCP_FASTOPEN_CONNECT</c> sends that flight in its SYN.</param>
    /// <param name="server">The server; its port and <paramref name="hostName"/> name the sessions to resume with.</param>
    /// <param name="hostName">The server's name: sent by SNI unless it is an IP address, and given to the certificate validator.</param>
    public static OpenSslClientConnection Create(OpenSslClientContext context, Socket socket, EndPoint server, string hostName)
    {
        ArgumentNullException.ThrowIfNull(socket);
        MemoryBioSsl? tls = null;
        string sessionKey;
        try
        {
            ArgumentNullException.ThrowIfNull(context);
            ArgumentException.ThrowIfNullOrEmpty(hostName);
            // A session is resumed only with the ALPN protocols it was made with: early data must use the same protocol
            // (RFC 8446 §4.2.10), and a server may refuse the ticket otherwise.
            sessionKey = $"{hostName}:{Port(server)} {context.ApplicationProtocolsKey}";
            tls = MemoryBioSsl.Create(context.NewSsl());
            SetServerName(tls.Ssl, hostName);
        }
        catch
        {
            tls?.Dispose();
            socket.Dispose();
            throw;
        }

        var created = new OpenSslClientConnection(context, socket, server, hostName, sessionKey, tls);
        try
        {
            tls.SetOwner(created);
            return created;
        }
        catch
        {
            created.Dispose();
            throw;
        }
    }

    /// <summary>The connection an SSL belongs to, from a callback OpenSSL makes.</summary>
    public static OpenSslClientConnection? FromSsl(nint ssl) => MemoryBioSsl.OwnerOf<OpenSslClientConnection>(ssl);

    /// <summary>
    /// Runs the handshake: resumes with a stored session for this server when there is one (taking it out of the store),
    /// and when that session allows at least <paramref name="earlyData"/>'s length of early data, sends it with the
    /// ClientHello. Whatever the server did not take (<see cref="OpenSslClientHandshake.EarlyData"/> is not
    /// <see cref="ClientEarlyDataStatus.Accepted"/>) it never read: <see cref="SendEarlyDataUnlessAcceptedAsync"/> sends it now.
    /// </summary>
    /// <exception cref="AuthenticationException">The handshake failed (OpenSSL's reason, or the validator's refusal).</exception>
    /// <exception cref="Exception">Whatever the validator threw, as it threw it (<see cref="ValidatorThrew"/>).</exception>
    /// <exception cref="IOException">The server closed the connection during the handshake.</exception>
    public async Task<OpenSslClientHandshake> HandshakeAsync(ReadOnlyMemory<byte> earlyData, CancellationToken cancellationToken)
    {
        _earlyData = earlyData;
        WriteEarlyData();
        _socket.NoDelay = true; // each flight is one write; none waits for the ACK of the one before

        for (var received = 0; ; )
        {
            var (result, error, reasons) = _tls.Handshake();
            var failed = result != 1 && error != Libssl.SSL_ERROR_WANT_READ;
            if (FirstFlightBytes == 0)
            {
                FirstFlightBytes = _tls.PendingOutput;
            }

            if (!_socket.Connected)
            {
                await _socket.ConnectAsync(_server, cancellationToken);
            }

            // What the client has to say goes out first, even on failure: that is the alert that tells the server why.
            try
            {
                await SendPendingAsync(cancellationToken);
            }
            catch (SocketException) when (failed)
            {
                // The server is gone already: the alert was a courtesy, the failure is what the caller must learn.
            }

            if (failed)
            {
                if (_validatorException is { } thrown)
                {
                    ExceptionDispatchInfo.Throw(thrown);
                }

                throw new AuthenticationException($"TLS handshake with {_sessionKey} failed: {_validationFailure ?? reasons ?? $"SSL_get_error {error}"}.");
            }

            if (result == 1)
            {
                break;
            }

            var n = await ReceiveAsync(cancellationToken);
            if (n == 0)
            {
                throw new IOException($"{_sessionKey} closed the connection during the TLS handshake.");
            }

            received += n;
            if (received > MaxHandshakeBytes)
            {
                throw new AuthenticationException($"TLS handshake with {_sessionKey} failed: the server sent {received} bytes without completing it.");
            }
        }

        Handshake = Settled();
        return Handshake;
    }

    /// <summary>
    /// Sends the early data given to <see cref="HandshakeAsync"/> as ordinary data unless the server accepted it in the
    /// handshake, at most once: true when it sent it now. A caller that resends only what still applies (the same ALPN
    /// protocol, RFC 8446 §4.2.10) checks <see cref="Handshake"/> first.
    /// </summary>
    public async ValueTask<bool> SendEarlyDataUnlessAcceptedAsync(CancellationToken cancellationToken)
    {
        var handshake = Handshake ?? throw new InvalidOperationException("The handshake has not completed.");
        var data = _earlyData;
        _earlyData = default;
        if (data.IsEmpty || handshake.EarlyData == ClientEarlyDataStatus.Accepted)
        {
            return false;
        }

        await WriteAsync(data, cancellationToken);
        return true;
    }

    /// <summary>
    /// Reads, and drops, what the server sends until it has given this connection a session to resume with: a TLS 1.3
    /// ticket comes after the handshake, once the server has the client's Finished, so a connection closed as soon as
    /// its answer is read leaves the next one none (no resumption, no early data). False when the server closed first.
    /// </summary>
    public async ValueTask<bool> ReceiveSessionAsync(CancellationToken cancellationToken)
    {
        var dropped = new byte[BufferSize];
        for (var reads = 0; _sessionsKept == 0; reads++)
        {
            if (reads > MaxBytesWithoutData / BufferSize || (await ReadAsync(dropped, untilSession: true, cancellationToken) == 0 && _sessionsKept == 0))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads plaintext. A zero-byte read returns 0 once data can be read (or the stream has ended) without taking any,
    /// as a socket's does: SocketsHttpHandler waits for a response that way, without holding a buffer.
    /// </summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadAsync(buffer, untilSession: false, cancellationToken);

    /// <param name="buffer">Where the data goes.</param>
    /// <param name="untilSession">
    /// Also return (0) once the server has given this connection a session: a ticket is no data, and a wait for data
    /// after it may last as long as the server keeps the connection idle.
    /// </param>
    /// <param name="cancellationToken">Ends the wait.</param>
    private async ValueTask<int> ReadAsync(Memory<byte> buffer, bool untilSession, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        try
        {
            return await ReadCountedAsync(buffer, untilSession, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _reads);
        }
    }

    private async ValueTask<int> ReadCountedAsync(Memory<byte> buffer, bool untilSession, CancellationToken cancellationToken)
    {
        for (var received = 0; received <= MaxBytesWithoutData; )
        {
            var (result, error, reasons) = buffer.IsEmpty ? _tls.Read(_peeked, peek: true) : _tls.Read(buffer.Span);

            // A key update or an alert OpenSSL answered while reading.
            await SendPendingAsync(cancellationToken);
            if (result > 0)
            {
                return buffer.IsEmpty ? 0 : result;
            }

            if (error == Libssl.SSL_ERROR_ZERO_RETURN || (untilSession && _sessionsKept > 0))
            {
                return 0;
            }

            if (error != Libssl.SSL_ERROR_WANT_READ)
            {
                throw new IOException($"TLS read from {_sessionKey} failed: {reasons ?? $"SSL_get_error {error}"}.");
            }

            var n = await ReceiveAsync(cancellationToken);
            if (n == 0)
            {
                // Closed without close_notify: the end of the stream, as SslStream reports it.
                return 0;
            }

            received += n;
        }

        throw new IOException($"TLS read from {_sessionKey} failed: more than {MaxBytesWithoutData} bytes came without any data.");
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Handshake is null)
        {
            throw new InvalidOperationException("The handshake has not completed; data before it goes as early data.");
        }

        _tls.Write(buffer.Span);
        await SendPendingAsync(cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
        // Every write is sent before it returns.
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Puts a session OpenSSL made (and the reference it handed over) in the store, under this connection's server.</summary>
    internal void Keep(nint session)
    {
        _context.Sessions.Add(_sessionKey, SafeSslSessionHandle.Own(session));
        _sessionsKept++;
    }

    /// <summary>Whether any byte came from the server: a failure before one is a failure to connect.</summary>
    public bool ReceivedAny { get; private set; }

    /// <summary>Whether the handshake failed because the certificate validator threw.</summary>
    public bool ValidatorThrew => _validatorException is not null;

    /// <summary>
    /// Asks <paramref name="validator"/> about the certificate of a session this connection resumed, which a full
    /// handshake's check accepted when the session was made: SslStream checks every connection, so a caller that sees
    /// each check (a callback) must see this one too.
    /// </summary>
    /// <exception cref="AuthenticationException">The validator refused, or the session holds no certificate.</exception>
    /// <exception cref="Exception">Whatever the validator threw, as it threw it.</exception>
    public void ValidateResumedSession(OpenSslCertificateValidator validator)
    {
        X509Certificate2 certificate;
        X509Certificate2Collection sent;
        lock (_tls.Lock)
        {
            using var peer = Libssl.SSL_get1_peer_certificate(_tls.Ssl);
            if (peer.IsInvalid)
            {
                throw new AuthenticationException($"TLS handshake with {_sessionKey} failed: the resumed session holds no server certificate.");
            }

            (certificate, sent) = Copy(peer.DangerousGetHandle(), Libssl.SSL_get_peer_cert_chain(_tls.Ssl));
        }

        // The validator is the caller's code: it runs on copies, outside the connection's lock.
        var valid = Validate(certificate, sent, validator);
        if (_validatorException is { } thrown)
        {
            ExceptionDispatchInfo.Throw(thrown);
        }

        if (!valid)
        {
            throw new AuthenticationException($"TLS handshake with {_sessionKey} failed: {_validationFailure}.");
        }
    }

    /// <summary>Asks the caller's validator about the certificate being verified; false, with the reason kept, when it refuses.</summary>
    internal bool Validate(nint storeContext)
    {
        var (certificate, sent) = Copy(Libcrypto.X509_STORE_CTX_get0_cert(storeContext), Libcrypto.X509_STORE_CTX_get0_untrusted(storeContext));
        return Validate(certificate, sent, _context.ValidateServerCertificate);
    }

    /// <summary>Certificates of the caller's own for the server's certificate and those it sent, each holding its own reference.</summary>
    /// <param name="peer">The server's certificate (an <c>X509*</c>).</param>
    /// <param name="stack">The certificates it sent (a <c>STACK_OF(X509)*</c>, its own included or not), or 0.</param>
    private static (X509Certificate2 Certificate, X509Certificate2Collection Sent) Copy(nint peer, nint stack)
    {
        var certificate = new X509Certificate2(peer);
        var sent = new X509Certificate2Collection();
        try
        {
            for (var i = 0; stack != 0 && i < Libcrypto.OPENSSL_sk_num(stack); i++)
            {
                sent.Add(new X509Certificate2(Libcrypto.OPENSSL_sk_value(stack, i)));
            }
        }
        catch
        {
            DisposeCopies(certificate, sent);
            throw;
        }

        return (certificate, sent);
    }

    /// <summary>Asks <paramref name="validator"/>, keeping its refusal or its exception; disposes the certificates.</summary>
    private bool Validate(X509Certificate2 certificate, X509Certificate2Collection sent, OpenSslCertificateValidator validator)
    {
        try
        {
            if (validator(_hostName, certificate, sent))
            {
                return true;
            }

            _validationFailure = $"the certificate validator refused '{certificate.Subject}' for '{_hostName}'";
        }
        catch (Exception exception)
        {
            // Given to the caller as thrown, as SslStream gives a validation callback's exception.
            _validatorException = exception;
        }
        finally
        {
            DisposeCopies(certificate, sent);

            // The validator may have used .NET's cryptography, which shares this thread's error queue.
            OpenSslError.Clear();
        }

        return false;
    }

    private static void DisposeCopies(X509Certificate2 certificate, X509Certificate2Collection sent)
    {
        certificate.Dispose();
        foreach (var link in sent)
        {
            link.Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Not while a read runs: that read takes the ticket when it comes, and the dispose must end it.
            if (SessionLinger > TimeSpan.Zero && Handshake is not null && Volatile.Read(ref _sessionsKept) == 0 && Volatile.Read(ref _reads) == 0)
            {
                _ = LingerForSessionAsync();
            }
            else
            {
                Release();
            }
        }

        base.Dispose(disposing);
    }

    private async Task LingerForSessionAsync()
    {
        try
        {
            using var linger = new CancellationTokenSource(SessionLinger);
            await ReceiveSessionAsync(linger.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // No ticket: the next connection makes a full handshake, as it would have anyway.
        }
        finally
        {
            Release();
        }
    }

    private void Release()
    {
        lock (_tls.Lock)
        {
            SayCloseNotify();

            // The socket before the SSL: a read waiting on it ends, and nothing more reaches OpenSSL.
            _socket.Dispose();
            _tls.Dispose();
        }

        _sendLock.Dispose();
    }

    /// <summary>
    /// Ends a connection whose handshake completed with close_notify, sent as far as the socket takes it without waiting.
    /// Not only politeness: OpenSSL marks the session of an SSL freed without <c>SSL_shutdown</c> not resumable, and that
    /// session is the one the last ticket came in, already in the store.
    /// </summary>
    private void SayCloseNotify()
    {
        if (Handshake is null || _tls.Ssl.IsClosed)
        {
            return;
        }

        OpenSslError.Clear();
        Libssl.SSL_shutdown(_tls.Ssl);
        OpenSslError.Clear();
        // Its own buffer: a send in progress may still be reading the other.
        Span<byte> alert = stackalloc byte[64];
        try
        {
            _socket.Blocking = false;
            _socket.Send(alert[.._tls.TakeOutput(alert)], SocketFlags.None, out _);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Gone already: the server learns of the end from the close.
        }
    }

    private static int Port(EndPoint? server) => server switch
    {
        IPEndPoint ip => ip.Port,
        DnsEndPoint dns => dns.Port,
        _ => throw new ArgumentException($"A TLS client connects to an IP or DNS end point, not {server?.GetType().Name ?? "null"}.", nameof(server)),
    };

    private static void SetServerName(SafeSslHandle ssl, string hostName)
    {
        // RFC 6066 §3: SNI names a host, never an address.
        if (IPAddress.TryParse(hostName, out _))
        {
            return;
        }

        var name = Marshal.StringToCoTaskMemUTF8(hostName);
        try
        {
            OpenSslError.Clear();
            if (Libssl.SSL_ctrl(ssl, Libssl.SSL_CTRL_SET_TLSEXT_HOSTNAME, Libssl.TLSEXT_NAMETYPE_host_name, name) != 1)
            {
                throw OpenSslError.Exception("SSL_set_tlsext_host_name", hostName);
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>
    /// Resumes with this server's newest session, if any, and writes the early data behind the ClientHello when the
    /// session allows all of it; OpenSSL then holds the whole first flight, for one write.
    /// </summary>
    private unsafe void WriteEarlyData()
    {
        using var session = _context.Sessions.Take(_sessionKey);
        if (session is null)
        {
            return;
        }

        lock (_tls.Lock)
        {
            OpenSslError.Clear();
            if (Libssl.SSL_set_session(_tls.Ssl, session) != 1)
            {
                throw OpenSslError.Exception("SSL_set_session");
            }

            var allowed = Libssl.SSL_SESSION_get_max_early_data(session);
            if (_earlyData.IsEmpty || allowed < _earlyData.Length)
            {
                return;
            }

            nuint written = 0;
            fixed (byte* data = _earlyData.Span)
            {
                if (Libssl.SSL_write_early_data(_tls.Ssl, data, (nuint)_earlyData.Length, &written) != 1 || written != (nuint)_earlyData.Length)
                {
                    throw OpenSslError.Exception("SSL_write_early_data");
                }
            }
        }
    }

    private unsafe OpenSslClientHandshake Settled()
    {
        lock (_tls.Lock)
        {
            var ssl = _tls.Ssl;
            byte* alpn = null;
            uint alpnLength = 0;
            Libssl.SSL_get0_alpn_selected(ssl, &alpn, &alpnLength);
            return new OpenSslClientHandshake(
#pragma warning disable CA5397 // Reports the version the handshake settled; it chooses none.
                Libssl.SSL_version(ssl) == Libssl.TLS1_3_VERSION ? SslProtocols.Tls13 : SslProtocols.Tls12,
#pragma warning restore CA5397
                Libssl.SSL_session_reused(ssl) == 1,
                alpnLength == 0 ? default : new SslApplicationProtocol(new ReadOnlySpan<byte>(alpn, (int)alpnLength).ToArray()),
                (ClientEarlyDataStatus)Libssl.SSL_get_early_data_status(ssl));
        }
    }

    /// <summary>Ciphertext from the server into OpenSSL's read BIO; the count, 0 when the server closed.</summary>
    private async ValueTask<int> ReceiveAsync(CancellationToken cancellationToken)
    {
        var n = await _socket.ReceiveAsync(_received, SocketFlags.None, cancellationToken);
        if (n > 0)
        {
            ReceivedAny = true;
            _tls.Receive(_received.AsSpan(0, n));
        }

        return n;
    }

    /// <summary>Sends everything OpenSSL has written, in order, whoever wrote it.</summary>
    private async ValueTask SendPendingAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            for (var taken = _tls.TakeOutput(_toSend); taken > 0; taken = _tls.TakeOutput(_toSend))
            {
                for (var sent = 0; sent < taken; )
                {
                    sent += await _socket.SendAsync(_toSend.AsMemory(sent, taken - sent), SocketFlags.None, cancellationToken);
                }
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
