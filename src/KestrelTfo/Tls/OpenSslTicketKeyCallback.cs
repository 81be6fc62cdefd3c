using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using KestrelTfo.OpenSsl;

namespace KestrelTfo.Tls;

/// <summary>
/// One SSL_CTX's session-ticket keys, installed as OpenSSL 3's ticket key callback: new tickets are encrypted under the
/// configured primary key (or, with none configured, under a random key of this context's own, as OpenSSL would make);
/// a ticket under the primary key resumes, one under any other key still held resumes and is replaced by a ticket under
/// the primary, and one under an unknown key gets a full handshake.
/// </summary>
/// <remarks>
/// The callback reads the configured keys from the <see cref="TicketKeyRing"/> on every ticket, so a reload that swaps
/// them reaches every endpoint at once, and the context needs no registration to be reached. Its own key stays: tickets
/// issued under it before a reload configured keys still resume, and it takes over again when configured keys are removed.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class OpenSslTicketKeyCallback : IDisposable
{
    // What the callback returns (SSL_CTX_set_tlsext_ticket_key_cb(3)): no ticket, or no resumption (a full handshake);
    // the keys are set; the keys are set and the ticket is to be replaced by one under the primary key.
    private const int NotKeyed = 0;
    private const int Keyed = 1;
    private const int KeyedRenew = 2;

    // A reload swaps keys between reading and referencing them at most once in a while; two swaps within one callback
    // are a storm of reloads, and that ticket goes without.
    private const int AcquireAttempts = 3;

    private static readonly Lazy<int> s_contextIndex = new(NewContextIndex);

    private readonly SafeSslContextHandle _context;
    private readonly TicketKeyRing? _ring;
    private readonly OpenSslTicketKeys _own = OpenSslTicketKeys.CreateRandom();
    private GCHandle _self;

    private OpenSslTicketKeyCallback(SafeSslContextHandle context, TicketKeyRing? ring)
    {
        _context = context;
        _ring = ring;

        // Weak, as the context's own handle: the context holds this, and a context no longer served is collected.
        _self = GCHandle.Alloc(this, GCHandleType.Weak);
    }

    /// <summary>Whether configured keys are in force now (not this context's own).</summary>
    public bool HasConfiguredKeys => _ring?.Configured is not null;

    /// <summary>Installs the callback on <paramref name="context"/>, with the keys of <paramref name="ring"/> when it has any.</summary>
    /// <param name="context">The endpoint's SSL_CTX.</param>
    /// <param name="ring">The app's configured keys; null for this context's own key only.</param>
    public static OpenSslTicketKeyCallback Install(SafeSslContextHandle context, TicketKeyRing? ring)
    {
        var installed = new OpenSslTicketKeyCallback(context, ring);
        try
        {
            OpenSslError.Clear();
            OpenSslError.Check(Libssl.SSL_CTX_set_ex_data(context, s_contextIndex.Value, GCHandle.ToIntPtr(installed._self)), "SSL_CTX_set_ex_data");
            OpenSslError.Check(Libssl.SSL_CTX_set_tlsext_ticket_key_evp_cb(context, &OnTicketKey), "SSL_CTX_set_tlsext_ticket_key_evp_cb");
            return installed;
        }
        catch
        {
            installed.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        // The slot first: a connection that outlives the context finds no keys (a full handshake), never a freed handle.
        if (!_context.IsClosed)
        {
            Libssl.SSL_CTX_set_ex_data(_context, s_contextIndex.Value, 0);
        }

        if (_self.IsAllocated)
        {
            _self.Free();
        }

        _own.Dispose();
    }

    private static int NewContextIndex()
    {
        var index = Libcrypto.CRYPTO_get_ex_new_index(Libcrypto.CRYPTO_EX_INDEX_SSL_CTX, 0, 0, 0, 0, 0);
        return index >= 0 ? index : throw OpenSslError.Exception("CRYPTO_get_ex_new_index");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnTicketKey(nint ssl, byte* keyName, byte* iv, nint cipher, nint mac, int encrypt)
    {
        // 0 is success; without a mark (no memory for the queue) the errors are left as they are.
        var marked = Libcrypto.ERR_set_mark() == 0;
        var result = NotKeyed;
        try
        {
            var slot = Libssl.SSL_CTX_get_ex_data(Libssl.SSL_get_SSL_CTX(ssl), s_contextIndex.Value);
            if (slot != 0 && GCHandle.FromIntPtr(slot).Target is OpenSslTicketKeyCallback installed)
            {
                result = encrypt != 0 ? installed.Encrypt(keyName, iv, cipher, mac) : installed.Decrypt(keyName, iv, cipher, mac);
            }
        }
        catch
        {
            result = NotKeyed;
        }

        // Keys that could not be used mean a ticket not issued or a full handshake, not a failed handshake: take back
        // the errors this callback caused, or the handshake's own SSL_get_error would read them as its failure.
        if (marked)
        {
            _ = result == NotKeyed ? Libcrypto.ERR_pop_to_mark() : Libcrypto.ERR_clear_last_mark();
        }

        return result;
    }

    private int Encrypt(byte* keyName, byte* iv, nint cipher, nint mac)
    {
        var keys = AcquireCurrent();
        if (keys is null)
        {
            return NotKeyed;
        }

        try
        {
            if (Libcrypto.RAND_bytes(iv, Libcrypto.EVP_MAX_IV_LENGTH) != 1)
            {
                return NotKeyed;
            }

            keys.Name(0).CopyTo(new Span<byte>(keyName, Libssl.TLSEXT_KEYNAME_LENGTH));
            return KeyCipherAndMac(keys, 0, iv, cipher, mac, encrypt: true) ? Keyed : NotKeyed;
        }
        finally
        {
            keys.DangerousRelease();
        }
    }

    private int Decrypt(byte* keyName, byte* iv, nint cipher, nint mac)
    {
        var name = new ReadOnlySpan<byte>(keyName, Libssl.TLSEXT_KEYNAME_LENGTH);
        var keys = AcquireCurrent();
        if (keys is null)
        {
            return NotKeyed;
        }

        var ownInForce = ReferenceEquals(keys, _own);
        try
        {
            var index = keys.Find(name);
            if (index >= 0)
            {
                // Renewed even under the primary key: OpenSSL sends a TLS 1.3 resumption its new ticket only when the
                // callback asks for one, and a client uses each ticket once (RFC 8446, appendix C.4), so without it
                // every other connection would be a full handshake and send no early data.
                return KeyCipherAndMac(keys, index, iv, cipher, mac, encrypt: false) ? KeyedRenew : NotKeyed;
            }
        }
        finally
        {
            keys.DangerousRelease();
        }

        // A ticket under this context's own key, issued before a reload configured keys: good, and replaced.
        if (ownInForce || !TryAddRef(_own))
        {
            return NotKeyed;
        }

        try
        {
            return _own.Find(name) == 0 && KeyCipherAndMac(_own, 0, iv, cipher, mac, encrypt: false) ? KeyedRenew : NotKeyed;
        }
        finally
        {
            _own.DangerousRelease();
        }
    }

    /// <summary>The keys that encrypt now, referenced (release them); null when they are disposed (the host is stopping).</summary>
    private OpenSslTicketKeys? AcquireCurrent()
    {
        for (var attempt = 0; attempt < AcquireAttempts; attempt++)
        {
            var keys = _ring?.Configured ?? _own;
            if (TryAddRef(keys))
            {
                return keys;
            }

            if (ReferenceEquals(keys, _own))
            {
                return null;
            }
        }

        return null;
    }

    private static bool TryAddRef(OpenSslTicketKeys keys)
    {
        var added = false;
        try
        {
            keys.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            // Swapped out and released since it was read.
        }

        return added;
    }

    /// <summary>Keys the ticket's AES-256-CBC and HMAC-SHA256, as OpenSSL's own ticket keys are used.</summary>
    private static bool KeyCipherAndMac(OpenSslTicketKeys keys, int index, byte* iv, nint cipher, nint mac, bool encrypt)
    {
        var aes = Libcrypto.EVP_aes_256_cbc();
        var keyed = encrypt
            ? Libcrypto.EVP_EncryptInit_ex(cipher, aes, 0, keys.AesKey(index), iv)
            : Libcrypto.EVP_DecryptInit_ex(cipher, aes, 0, keys.AesKey(index), iv);
        if (keyed != 1)
        {
            return false;
        }

        // OSSL_MAC_PARAM_KEY and OSSL_MAC_PARAM_DIGEST (core_names.h), as C strings.
        fixed (byte* keyParameter = "key\0"u8)
        fixed (byte* digestParameter = "digest\0"u8)
        fixed (byte* sha256 = "SHA256\0"u8)
        {
            var parameters = stackalloc OsslParam[3];
            parameters[0] = Libcrypto.OSSL_PARAM_construct_octet_string(keyParameter, keys.HmacKey(index), TlsTicketKey.DerivedKeyLength);
            parameters[1] = Libcrypto.OSSL_PARAM_construct_utf8_string(digestParameter, sha256, 0);
            parameters[2] = Libcrypto.OSSL_PARAM_construct_end();
            return Libcrypto.EVP_MAC_CTX_set_params(mac, parameters) == 1;
        }
    }
}
