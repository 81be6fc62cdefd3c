using System.Runtime.InteropServices;

namespace KestrelTfo.OpenSsl;

/// <summary>
/// An SSL whose TLS records pass through two memory BIOs: ciphertext from the network goes into one
/// (<see cref="Receive"/>), what OpenSSL writes for the network comes out of the other (<see cref="TakeOutput"/>), so the
/// caller's own I/O moves the bytes. Every call holds <see cref="Lock"/> (an SSL is not thread safe) and reads OpenSSL's
/// errors right after it, on the same thread.
/// </summary>
internal sealed unsafe class MemoryBioSsl : IDisposable
{
    // One SSL ex_data slot for whoever owns an SSL, so that OpenSSL's callbacks, which get only the SSL, find it.
    private static readonly Lazy<int> s_ownerIndex = new(() =>
    {
        var index = Libcrypto.CRYPTO_get_ex_new_index(Libcrypto.CRYPTO_EX_INDEX_SSL, 0, 0, 0, 0, 0);
        return index >= 0 ? index : throw OpenSslError.Exception("CRYPTO_get_ex_new_index");
    });

    private readonly SafeBioHandle _fromNetwork;
    private readonly SafeBioHandle _toNetwork;
    private GCHandle _owner;

    private MemoryBioSsl(SafeSslHandle ssl, SafeBioHandle fromNetwork, SafeBioHandle toNetwork)
    {
        Ssl = ssl;
        _fromNetwork = fromNetwork;
        _toNetwork = toNetwork;
    }

    public SafeSslHandle Ssl { get; }

    /// <summary>Held by every call on <see cref="Ssl"/>: callers take it for calls of their own.</summary>
    public Lock Lock { get; } = new();

    /// <summary>Whether the SSL and both BIO references are freed (after <see cref="Dispose"/>).</summary>
    public bool IsReleased => Ssl.IsClosed && _fromNetwork.IsClosed && _toNetwork.IsClosed;

    /// <summary>How many bytes OpenSSL has written for the network and <see cref="TakeOutput"/> has not taken.</summary>
    public int PendingOutput
    {
        get
        {
            lock (Lock)
            {
                return (int)Libcrypto.BIO_ctrl_pending(_toNetwork);
            }
        }
    }

    /// <summary>Gives <paramref name="ssl"/> two new memory BIOs; owns it from now on, also when this throws.</summary>
    public static MemoryBioSsl Create(SafeSslHandle ssl)
    {
        SafeBioHandle? fromNetwork = null;
        SafeBioHandle? toNetwork = null;
        try
        {
            fromNetwork = NewMemoryBio();
            toNetwork = NewMemoryBio();

            // The SSL takes over one reference to each BIO; these handles keep their own, so either may go first.
            Libcrypto.BIO_up_ref(fromNetwork);
            Libcrypto.BIO_up_ref(toNetwork);
            Libssl.SSL_set_bio(ssl, fromNetwork, toNetwork);
            return new MemoryBioSsl(ssl, fromNetwork, toNetwork);
        }
        catch
        {
            ssl.Dispose();
            fromNetwork?.Dispose();
            toNetwork?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The object that owns the SSL named by <paramref name="ssl"/>, from a callback OpenSSL makes; null when it has
    /// none of that type, or is gone.
    /// </summary>
    public static T? OwnerOf<T>(nint ssl)
        where T : class
    {
        var slot = ssl == 0 ? 0 : Libssl.SSL_get_ex_data(ssl, s_ownerIndex.Value);
        return slot == 0 ? null : GCHandle.FromIntPtr(slot).Target as T;
    }

    /// <summary>
    /// Makes <paramref name="owner"/> what <see cref="OwnerOf{T}"/> finds for this SSL, by a weak handle that
    /// <see cref="Dispose"/> frees with the SSL, so no callback can find it after.
    /// </summary>
    public void SetOwner(object owner)
    {
        lock (Lock)
        {
            _owner = GCHandle.Alloc(owner, GCHandleType.Weak);
            if (Libssl.SSL_set_ex_data(Ssl, s_ownerIndex.Value, GCHandle.ToIntPtr(_owner)) != 1)
            {
                throw OpenSslError.Exception("SSL_set_ex_data");
            }
        }
    }

    /// <summary><c>SSL_do_handshake</c>: 1 when done; otherwise OpenSSL's error (WANT_READ: give it more) and reasons.</summary>
    public (int Result, int Error, string? Reasons) Handshake()
    {
        lock (Lock)
        {
            OpenSslError.Clear();
            var result = Libssl.SSL_do_handshake(Ssl);
            var error = result == 1 ? Libssl.SSL_ERROR_NONE : Libssl.SSL_get_error(Ssl, result);
            return (result, error, OpenSslError.Take());
        }
    }

    /// <summary>
    /// <c>SSL_read</c> into <paramref name="destination"/>, or <c>SSL_peek</c>, which leaves the data to be read: the count
    /// when positive; otherwise OpenSSL's error and reasons.
    /// </summary>
    public (int Result, int Error, string? Reasons) Read(Span<byte> destination, bool peek = false)
    {
        fixed (byte* buffer = destination)
        {
            lock (Lock)
            {
                OpenSslError.Clear();
                var result = peek ? Libssl.SSL_peek(Ssl, buffer, destination.Length) : Libssl.SSL_read(Ssl, buffer, destination.Length);
                var error = result > 0 ? Libssl.SSL_ERROR_NONE : Libssl.SSL_get_error(Ssl, result);
                return (result, error, error == Libssl.SSL_ERROR_NONE ? null : OpenSslError.Take());
            }
        }
    }

    /// <summary><c>SSL_write</c> of all of <paramref name="plaintext"/>, whose records then wait for <see cref="TakeOutput"/>.</summary>
    /// <exception cref="IOException">OpenSSL refused, with its reasons.</exception>
    public void Write(ReadOnlySpan<byte> plaintext)
    {
        fixed (byte* buffer = plaintext)
        {
            lock (Lock)
            {
                OpenSslError.Clear();

                // A memory BIO takes everything, so SSL_write never writes part.
                var result = Libssl.SSL_write(Ssl, buffer, plaintext.Length);
                if (result != plaintext.Length)
                {
                    var error = Libssl.SSL_get_error(Ssl, result);
                    throw new IOException($"TLS write failed: {OpenSslError.Take() ?? $"SSL_get_error {error}"}.");
                }
            }
        }
    }

    /// <summary>Ciphertext from the network into OpenSSL's read BIO.</summary>
    public void Receive(ReadOnlySpan<byte> ciphertext)
    {
        fixed (byte* buffer = ciphertext)
        {
            lock (Lock)
            {
                OpenSslError.Clear();
                if (Libcrypto.BIO_write(_fromNetwork, buffer, ciphertext.Length) != ciphertext.Length)
                {
                    throw OpenSslError.Exception("BIO_write");
                }
            }
        }
    }

    /// <summary>Moves what OpenSSL wrote for the network into <paramref name="destination"/>; the count, 0 when there is nothing.</summary>
    public int TakeOutput(Span<byte> destination)
    {
        fixed (byte* buffer = destination)
        {
            lock (Lock)
            {
                return Libcrypto.BIO_ctrl_pending(_toNetwork) == 0 ? 0 : Libcrypto.BIO_read(_toNetwork, buffer, destination.Length);
            }
        }
    }

    public void Dispose()
    {
        lock (Lock)
        {
            Ssl.Dispose();
            _fromNetwork.Dispose();
            _toNetwork.Dispose();
            if (_owner.IsAllocated)
            {
                _owner.Free();
            }
        }
    }

    private static SafeBioHandle NewMemoryBio()
    {
        OpenSslError.Clear();
        var bio = Libcrypto.BIO_new(Libcrypto.BIO_s_mem());
        return bio.IsInvalid ? throw OpenSslError.Exception("BIO_new") : bio;
    }
}
