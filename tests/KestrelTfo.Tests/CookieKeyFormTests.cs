using KestrelTfo.Internal;
using KestrelTfo.Platform;

namespace KestrelTfo.Tests;

public sealed class CookieKeyFormTests
{
    private static readonly byte[] InOrder = Convert.FromHexString("000102030405060708090A0B0C0D0E0F");

    [Theory]
    [InlineData("000102030405060708090a0b0c0d0e0f")]
    [InlineData("000102030405060708090A0B0C0D0E0F")]
    [InlineData("  000102030405060708090a0b0c0d0e0f\n")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==")]
    public void Hex_and_base64_are_the_bytes_in_order(string text)
    {
        var key = new byte[FastOpenCookieKey.Length];

        Assert.True(FastOpenCookieKey.TryParse(text, key, out var problem), problem);
        Assert.Equal(InOrder, key);
    }

    [Theory]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0f")]
    [InlineData("10203-4050607-8090a0b-c0d0e0f")]
    [InlineData(" 00010203-04050607-08090A0B-0C0D0E0F ")]
    [InlineData("0x00010203-0X4050607-0x08090a0b-0xc0d0e0f")]
    public void The_kernels_form_is_four_32_bit_words_in_the_machines_byte_order(string text)
    {
        // What net.ipv4.tcp_fastopen_key does with the same text (proc_tcp_fastopen_key): sscanf("%x-%x-%x-%x") into
        // u32s, which the listener's key then holds as they lie in memory.
        uint[] words = [0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f];
        var expected = words.SelectMany(BitConverter.GetBytes).ToArray();
        var key = new byte[FastOpenCookieKey.Length];

        Assert.True(FastOpenCookieKey.TryParse(text, key, out var problem), problem);
        Assert.Equal(expected, key);
        if (BitConverter.IsLittleEndian)
        {
            Assert.Equal(Convert.FromHexString("03020100" + "07060504" + "0B0A0908" + "0F0E0D0C"), key);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("0011")]
    [InlineData("000102030405060708090a0b0c0d0e")]
    [InlineData("000102030405060708090a0b0c0d0e0f00")]
    [InlineData("zz0102030405060708090a0b0c0d0e0f")]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0z")]
    [InlineData("0001020304-050607-08090a0b-0c0d0e0f")]
    [InlineData("00010203-04050607-08090a0b")]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0f-10111213")]
    [InlineData("00010203--08090a0b-0c0d0e0f")]
    [InlineData("0x-04050607-08090a0b-0c0d0e0f")]
    [InlineData("0x000102030-04050607-08090a0b-0c0d0e0f")]
    [InlineData("AAECAwQFBgcICQoLDA0O")]
    [InlineData("AAECAwQFBgcICQoLDA0ODxA=")]
    [InlineData("!!ECAwQFBgcICQoLDA0ODw==")]
    public void Wrong_lengths_and_encodings_are_refused(string text)
    {
        Assert.False(FastOpenCookieKey.TryParse(text, new byte[FastOpenCookieKey.Length], out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void The_sysctls_pair_of_keys_is_refused_with_where_the_second_goes()
    {
        Assert.False(FastOpenCookieKey.TryParse("00010203-04050607-08090a0b-0c0d0e0f,10111213-14151617-18191a1b-1c1d1e1f", new byte[16], out var problem));

        Assert.Contains("BackupCookieKey", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Socket_option_is_the_primary_then_the_backup()
    {
        Assert.Null(FastOpenCookieKey.ToSocketOption(null, null));
        Assert.Null(FastOpenCookieKey.ToSocketOption(" ", null));
        Assert.Equal(InOrder, FastOpenCookieKey.ToSocketOption("000102030405060708090a0b0c0d0e0f", "")!);
        Assert.Equal(
            [.. InOrder, .. Enumerable.Repeat((byte)0xff, 16)],
            FastOpenCookieKey.ToSocketOption("000102030405060708090a0b0c0d0e0f", "ffffffffffffffffffffffffffffffff")!);
    }

    [Theory]
    [InlineData("not-quite-a-key-but-secret-all-the-same")]
    [InlineData("notquiteakeybutsecretallthesame")]
    public void Validator_names_the_setting_and_never_shows_the_key(string secret)
    {
        var result = new FastOpenTransportOptionsValidator().Validate(null, new FastOpenTransportOptions { CookieKey = secret, BackupCookieKey = secret });

        Assert.Equal(2, result.Failures!.Count());
        Assert.All(result.Failures!, failure => Assert.DoesNotContain(secret, failure, StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Kestrel:FastOpen:CookieKey ", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Kestrel:FastOpen:BackupCookieKey ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_backup_key_alone_is_refused()
    {
        var result = new FastOpenTransportOptionsValidator().Validate(null, new FastOpenTransportOptions { BackupCookieKey = "AAECAwQFBgcICQoLDA0ODw==" });

        Assert.StartsWith("Kestrel:FastOpen:BackupCookieKey needs a CookieKey", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }
}
