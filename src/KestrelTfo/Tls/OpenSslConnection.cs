using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KestrelTfo.OpenSsl;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KestrelTfo.Tls;

/// <summary>
/// One connection's TLS on OpenSSL over two memory BIOs: ciphertext read from the transport goes into one, what OpenSSL
/// writes comes out of the other and goes to the transport. One OpenSSL call at a time (an SSL is not thread safe), and
/// each call's errors are read on the thread that made it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OpenSslConnection : IDisposable
{
    private const int MaxDrain = 16 * 1024;

    private readonly OpenSslServerContext _server;
    private readonly ConnectionContext _connection;
    private readonly SafeSslHandle _ssl;
    private readonly SafeBioHandle _fromNetwork;
    private readonly SafeBioHandle _toNetwork;
    private readonly object _sslLock = new();
    private readonly SemaphoreSlim _outputLock = new(1, 1);
    private GCHandle _self;

    private OpenSslConnection(OpenSslServerContext server, ConnectionContext connection, SafeSslHandle ssl, SafeBioHandle fromNetwork, SafeBioHandle toNetwork)
    {
        _server = server;
        _connection = connection;
        _ssl = ssl;
        _fromNetwork = fromNetwork;
        _toNetwork = toNetwork;
    }

    /// <summary>Whether the SSL and both BIO references are freed (after <see cref="Dispose"/>).</summary>
    internal bool IsReleased => _ssl.IsClosed && _fromNetwork.IsClosed && _toNetwork.IsClosed;

    /// <summary>Why the certificate selector refused this connection, for the log; null when it did not.</summary>
    public string? SelectionFailure { get; private set; }

    public static OpenSslConnection Create(OpenSslServerContext server, ConnectionContext connection)
    {
        SafeSslHandle? ssl = null;
        SafeBioHandle? fromNetwork = null;
        SafeBioHandle? toNetwork = null;
        try
        {
            ssl = server.NewSsl();
            fromNetwork = NewMemoryBio();
            toNetwork = NewMemoryBio();

            // The SSL takes over one reference to each BIO; these handles keep their own, so either may go first.
            Libcrypto.BIO_up_ref(fromNetwork);
            Libcrypto.BIO_up_ref(toNetwork);
            Libssl.SSL_set_bio(ssl, fromNetwork, toNetwork);

            var created = new OpenSslConnection(server, connection, ssl, fromNetwork, toNetwork);
            created._self = GCHandle.Alloc(created, GCHandleType.Weak);
            if (Libssl.SSL_set_ex_data(ssl, OpenSslServerContext.ConnectionIndex, GCHandle.ToIntPtr(created._self)) != 1)
            {
                created.Dispose();
                throw OpenSslError.Exception("SSL_set_ex_data");
            }

            return created;
        }
        catch
        {
            ssl?.Dispose();
            fromNetwork?.Dispose();
            toNetwork?.Dispose();
            throw;
        }
    }

    /// <summary>The connection an SSL belongs to, from a callback OpenSSL makes during its handshake.</summary>
    public static OpenSslConnection? FromSsl(nint ssl)
    {
        var slot = Libssl.SSL_get_ex_data(ssl, OpenSslServerContext.ConnectionIndex);
        return slot == 0 ? null : GCHandle.FromIntPtr(slot).Target as OpenSslConnection;
    }

    /// <summary>Runs the app's certificate selector for the SNI name (or none) and installs what it picks.</summary>
    public bool SelectCertificate(nint ssl)
    {
        var name = OpenSslServerContext.ServerName(ssl);
        try
        {
            var certificate = _server.Options.ServerCertificateSelector!(_connection, name);
            if (_server.TryInstallSelected(ssl, certificate))
            {
                return true;
            }

            SelectionFailure = certificate is null
                ? $"the ServerCertificateSelector returned no certificate for '{name}'"
                : $"the certificate the ServerCertificateSelector returned for '{name}' could not be installed";
        }
        catch (Exception exception)
        {
            SelectionFailure = $"the ServerCertificateSelector threw for '{name}': {exception.Message}";
        }

        return false;
    }

    /// <summary>Runs the handshake over <paramref name="transport"/> until it completes; throws on failure or when the client goes.</summary>
    public async Task HandshakeAsync(IDuplexPipe transport, CancellationToken cancellationToken)
    {
        while (true)
        {
            int result, error;
            string? reasons;
            lock (_sslLock)
            {
                OpenSslError.Clear();
                result = Libssl.SSL_do_handshake(_ssl);
                error = result == 1 ? Libssl.SSL_ERROR_NONE : Libssl.SSL_get_error(_ssl, result);
                reasons = OpenSslError.Take();
            }

            // What the server has to say goes out first, even on failure: that is the alert that tells the client why.
            await SendPendingAsync(transport.Output, cancellationToken);
            if (result == 1)
            {
                return;
            }

            if (error != Libssl.SSL_ERROR_WANT_READ)
            {
                throw new AuthenticationException(
                    SelectionFailure is not null ? $"TLS handshake failed: {SelectionFailure}." : $"TLS handshake failed: {reasons ?? $"SSL_get_error {error}"}.");
            }

            var read = await transport.Input.ReadAsync(cancellationToken);
            if (read.Buffer.IsEmpty && (read.IsCompleted || read.IsCanceled))
            {
                transport.Input.AdvanceTo(read.Buffer.End);
                throw new IOException("The client closed the connection during the TLS handshake.");
            }

            Receive(read.Buffer);
            transport.Input.AdvanceTo(read.Buffer.End);
        }
    }

    /// <summary>What the handshake settled, as Kestrel's TLS features.</summary>
    public unsafe OpenSslTlsFeature CreateFeature(X509Certificate2? clientCertificate)
    {
        byte* alpn = null;
        uint alpnLength = 0;
        Libssl.SSL_get0_alpn_selected(_ssl, &alpn, &alpnLength);
        var cipher = Libssl.SSL_get_current_cipher(_ssl);
        return new OpenSslTlsFeature
        {
#pragma warning disable CA5397 // Reports the version the handshake settled; it chooses none.
            Protocol = Libssl.SSL_version(_ssl) == Libssl.TLS1_3_VERSION ? SslProtocols.Tls13 : SslProtocols.Tls12,
#pragma warning restore CA5397
            NegotiatedCipherSuite = cipher == 0 ? null : (TlsCipherSuite)Libssl.SSL_CIPHER_get_protocol_id(cipher),
            HostName = OpenSslServerContext.ServerName(_ssl.DangerousGetHandle()) ?? string.Empty,
            ApplicationProtocol = alpnLength == 0 ? ReadOnlyMemory<byte>.Empty : new ReadOnlySpan<byte>(alpn, (int)alpnLength).ToArray(),
            IsResumed = Libssl.SSL_session_reused(_ssl) == 1,
            ClientCertificate = clientCertificate,
        };
    }

    /// <summary>
    /// The client's certificate, validated as Kestrel validates it (a chain built with the client's intermediates, the
    /// client-authentication usage, then the app's <see cref="HttpsConnectionAdapterOptions.ClientCertificateValidation"/>
    /// or no errors at all); throws when it fails. Null when the client sent none and none is required.
    /// </summary>
    public X509Certificate2? ValidateClientCertificate()
    {
        var options = _server.Options;
        if (options.ClientCertificateMode == ClientCertificateMode.NoCertificate)
        {
            return null;
        }

        using var peer = Libssl.SSL_get1_peer_certificate(_ssl);
        if (peer.IsInvalid)
        {
            return options.ClientCertificateMode == ClientCertificateMode.RequireCertificate
                ? throw new AuthenticationException("The client sent no certificate, and one is required.")
                : null;
        }

        var certificate = Load(peer.DangerousGetHandle());
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = options.CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        var sent = Libssl.SSL_get_peer_cert_chain(_ssl);
        for (var i = 0; sent != 0 && i < Libcrypto.OPENSSL_sk_num(sent); i++)
        {
            chain.ChainPolicy.ExtraStore.Add(Load(Libcrypto.OPENSSL_sk_value(sent, i)));
        }

        var errors = chain.Build(certificate) ? SslPolicyErrors.None : SslPolicyErrors.RemoteCertificateChainErrors;
        var valid = options.ClientCertificateValidation is { } validate ? validate(certificate, chain, errors) : errors == SslPolicyErrors.None;
        if (!valid)
        {
            var subject = certificate.Subject;
            certificate.Dispose();
            throw new AuthenticationException($"The client certificate '{subject}' failed validation ({errors}).");
        }

        return certificate;
    }

    /// <summary>
    /// Moves bytes both ways until both directions end: ciphertext from the transport becomes plaintext in
    /// <paramref name="toApp"/>, plaintext from <paramref name="fromApp"/> becomes ciphertext on the transport.
    /// </summary>
    public Task RunAsync(IDuplexPipe transport, PipeWriter toApp, PipeReader fromApp) =>
        Task.WhenAll(DecryptAsync(transport, toApp), EncryptAsync(fromApp, transport.Output));

    public void Dispose()
    {
        lock (_sslLock)
        {
            _ssl.Dispose();
            _fromNetwork.Dispose();
            _toNetwork.Dispose();
            if (_self.IsAllocated)
            {
                _self.Free();
            }
        }

        _outputLock.Dispose();
    }

    private static SafeBioHandle NewMemoryBio()
    {
        OpenSslError.Clear();
        var bio = Libcrypto.BIO_new(Libcrypto.BIO_s_mem());
        return bio.IsInvalid ? throw OpenSslError.Exception("BIO_new") : bio;
    }

    private static unsafe X509Certificate2 Load(nint x509)
    {
        // The certificate is public material: its DER goes to .NET's loader, nothing secret is copied.
        var length = Libcrypto.i2d_X509(x509, null);
        if (length <= 0)
        {
            throw OpenSslError.Exception("i2d_X509");
        }

        var der = new byte[length];
        fixed (byte* start = der)
        {
            var cursor = start;
            if (Libcrypto.i2d_X509(x509, &cursor) != length)
            {
                throw OpenSslError.Exception("i2d_X509");
            }
        }

        return X509CertificateLoader.LoadCertificate(der);
    }

    private async Task DecryptAsync(IDuplexPipe transport, PipeWriter toApp)
    {
        Exception? failure = null;
        try
        {
            // The handshake's last read may have brought application data along (a resumed client sends its request
            // with its Finished): decrypt what OpenSSL holds before waiting for more.
            var ended = false;
            while (true)
            {
                var closed = DecryptInto(toApp);
                if (PendingOutput > 0)
                {
                    // An alert or a key update OpenSSL answered while reading.
                    await SendPendingAsync(transport.Output, CancellationToken.None);
                }

                var flushed = await toApp.FlushAsync();
                if (closed || ended || flushed.IsCompleted)
                {
                    break;
                }

                var read = await transport.Input.ReadAsync();
                if (read.IsCanceled)
                {
                    break;
                }

                Receive(read.Buffer);
                transport.Input.AdvanceTo(read.Buffer.End);
                ended = read.IsCompleted;
            }
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        await toApp.CompleteAsync(failure);
    }

    /// <summary>Everything OpenSSL can decrypt now; true when the client said close_notify.</summary>
    private unsafe bool DecryptInto(PipeWriter toApp)
    {
        while (true)
        {
            var memory = toApp.GetMemory();
            int result, error;
            string? reasons;
            fixed (byte* buffer = memory.Span)
            {
                lock (_sslLock)
                {
                    OpenSslError.Clear();
                    result = Libssl.SSL_read(_ssl, buffer, memory.Length);
                    error = result > 0 ? Libssl.SSL_ERROR_NONE : Libssl.SSL_get_error(_ssl, result);
                    reasons = error == Libssl.SSL_ERROR_NONE ? null : OpenSslError.Take();
                }
            }

            if (result > 0)
            {
                toApp.Advance(result);
                continue;
            }

            return error switch
            {
                Libssl.SSL_ERROR_WANT_READ => false,
                Libssl.SSL_ERROR_ZERO_RETURN => true,
                _ => throw new IOException($"TLS read failed: {reasons ?? $"SSL_get_error {error}"}."),
            };
        }
    }

    private async Task EncryptAsync(PipeReader fromApp, PipeWriter toNetwork)
    {
        try
        {
            while (true)
            {
                var read = await fromApp.ReadAsync();
                foreach (var segment in read.Buffer)
                {
                    Encrypt(segment.Span);
                }

                fromApp.AdvanceTo(read.Buffer.End);
                var flushed = await SendPendingAsync(toNetwork, CancellationToken.None);
                if (read.IsCompleted || read.IsCanceled || flushed)
                {
                    break;
                }
            }

            // close_notify: the client learns the response ended by intent, not by a cut.
            lock (_sslLock)
            {
                OpenSslError.Clear();
                Libssl.SSL_shutdown(_ssl);
                OpenSslError.Clear();
            }

            await SendPendingAsync(toNetwork, CancellationToken.None);
            await fromApp.CompleteAsync();
        }
        catch (Exception exception)
        {
            await fromApp.CompleteAsync(exception);
        }
    }

    private unsafe void Encrypt(ReadOnlySpan<byte> plaintext)
    {
        fixed (byte* buffer = plaintext)
        {
            lock (_sslLock)
            {
                OpenSslError.Clear();

                // A memory BIO takes everything, so SSL_write never writes part.
                var result = Libssl.SSL_write(_ssl, buffer, plaintext.Length);
                if (result != plaintext.Length)
                {
                    var error = Libssl.SSL_get_error(_ssl, result);
                    throw new IOException($"TLS write failed: {OpenSslError.Take() ?? $"SSL_get_error {error}"}.");
                }
            }
        }
    }

    /// <summary>Ciphertext from the transport into OpenSSL's read BIO.</summary>
    private unsafe void Receive(ReadOnlySequence<byte> ciphertext)
    {
        foreach (var segment in ciphertext)
        {
            fixed (byte* buffer = segment.Span)
            {
                lock (_sslLock)
                {
                    OpenSslError.Clear();
                    if (Libcrypto.BIO_write(_fromNetwork, buffer, segment.Length) != segment.Length)
                    {
                        throw OpenSslError.Exception("BIO_write");
                    }
                }
            }
        }
    }

    private int PendingOutput
    {
        get
        {
            lock (_sslLock)
            {
                return (int)Libcrypto.BIO_ctrl_pending(_toNetwork);
            }
        }
    }

    /// <summary>Moves what OpenSSL wrote into <paramref name="destination"/>; the count, 0 when there is nothing.</summary>
    private unsafe int TakeOutput(Span<byte> destination)
    {
        fixed (byte* buffer = destination)
        {
            lock (_sslLock)
            {
                return Libcrypto.BIO_ctrl_pending(_toNetwork) == 0 ? 0 : Libcrypto.BIO_read(_toNetwork, buffer, destination.Length);
            }
        }
    }

    /// <summary>Sends what OpenSSL wrote to the transport; true when the transport will take no more.</summary>
    private async ValueTask<bool> SendPendingAsync(PipeWriter toNetwork, CancellationToken cancellationToken)
    {
        await _outputLock.WaitAsync(cancellationToken);
        try
        {
            var any = false;
            while (true)
            {
                var memory = toNetwork.GetMemory(MaxDrain);
                var taken = TakeOutput(memory.Span);
                if (taken <= 0)
                {
                    break;
                }

                toNetwork.Advance(taken);
                any = true;
            }

            return any && (await toNetwork.FlushAsync(cancellationToken)).IsCompleted;
        }
        finally
        {
            _outputLock.Release();
        }
    }
}
