using System.Runtime.InteropServices;
using System.Security.Cryptography;
using KestrelTfo.OpenSsl;

namespace KestrelTfo.Tls;

/// <summary>
/// The derived key material of one or two ticket keys: the first encrypts new tickets, any other still decrypts them.
/// It lives in native memory, where the garbage collector never copies it, and is zeroed when released.
/// </summary>
/// <remarks>
/// A <see cref="SafeHandle"/> for its reference count: a ticket key callback holds a reference while it uses the keys,
/// so a reload that swaps them out and disposes them zeroes them only after the last callback in flight is done, and
/// never under one.
/// </remarks>
internal sealed unsafe class OpenSslTicketKeys : SafeHandle
{
    private const int NameLength = Libssl.TLSEXT_KEYNAME_LENGTH;
    private const int KeyLength = TlsTicketKey.DerivedKeyLength;
    private const int EntryLength = NameLength + 2 * KeyLength;

    private OpenSslTicketKeys(int count)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Count = count;
        SetHandle((nint)NativeMemory.AllocZeroed((nuint)(count * EntryLength)));
    }

    /// <summary>How many keys: 1, or 2 with a backup.</summary>
    public int Count { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Keys derived from configured secrets; the first encrypts.</summary>
    /// <param name="secrets">The secrets, each <see cref="TlsTicketKey.Length"/> bytes, primary first.</param>
    public static OpenSslTicketKeys FromSecrets(params ReadOnlySpan<byte[]> secrets)
    {
        ArgumentOutOfRangeException.ThrowIfZero(secrets.Length);
        var keys = new OpenSslTicketKeys(secrets.Length);
        for (var i = 0; i < secrets.Length; i++)
        {
            TlsTicketKey.Derive(secrets[i], keys.Entry(i, 0, NameLength), keys.Entry(i, NameLength, KeyLength), keys.Entry(i, NameLength + KeyLength, KeyLength));
        }

        return keys;
    }

    /// <summary>One key of a random secret, as OpenSSL makes for an SSL_CTX of its own accord.</summary>
    public static OpenSslTicketKeys CreateRandom()
    {
        var secret = new byte[TlsTicketKey.Length];
        RandomNumberGenerator.Fill(secret);
        try
        {
            return FromSecrets(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The name tickets under key <paramref name="index"/> carry in clear.</summary>
    public ReadOnlySpan<byte> Name(int index) => Entry(index, 0, NameLength);

    public byte* HmacKey(int index) => Pointer(index, NameLength);

    public byte* AesKey(int index) => Pointer(index, NameLength + KeyLength);

    /// <summary>The index of the key named <paramref name="name"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < Count; i++)
        {
            if (Name(i).SequenceEqual(name))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether both hold the same keys in the same order, told by their names (which are public anyway).</summary>
    public bool SameKeysAs(OpenSslTicketKeys other)
    {
        if (other.Count != Count)
        {
            return false;
        }

        for (var i = 0; i < Count; i++)
        {
            if (!Name(i).SequenceEqual(other.Name(i)))
            {
                return false;
            }
        }

        return true;
    }

    protected override bool ReleaseHandle()
    {
        CryptographicOperations.ZeroMemory(new Span<byte>((void*)handle, Count * EntryLength));
        NativeMemory.Free((void*)handle);
        return true;
    }

    private byte* Pointer(int index, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return (byte*)handle + index * EntryLength + offset;
    }

    private Span<byte> Entry(int index, int offset, int length) => new(Pointer(index, offset), length);
}
