using KestrelTfo.Internal;
using KestrelTfo.Platform;

namespace KestrelTfo.Tests;

public sealed class CookieKeyTests
{
    private static readonly byte[] Expected = Convert.FromHexString("000102030405060708090A0B0C0D0E0F");

    [Theory]
    [InlineData("000102030405060708090a0b0c0d0e0f")]
    [InlineData("000102030405060708090A0B0C0D0E0F")]
    [InlineData("  000102030405060708090a0b0c0d0e0f\n")]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0f")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==")]
    public void Accepted_forms_give_the_same_16_bytes(string text)
    {
        var key = new byte[FastOpenCookieKey.Length];

        Assert.True(FastOpenCookieKey.TryParse(text, key));
        Assert.Equal(Expected, key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0011")]
    [InlineData("000102030405060708090a0b0c0d0e")]
    [InlineData("000102030405060708090a0b0c0d0e0f00")]
    [InlineData("zz0102030405060708090a0b0c0d0e0f")]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0z")]
    [InlineData("0001020304-050607-08090a0b-0c0d0e0f")]
    [InlineData("AAECAwQFBgcICQoLDA0O")]
    [InlineData("AAECAwQFBgcICQoLDA0ODxA=")]
    [InlineData("!!ECAwQFBgcICQoLDA0ODw==")]
    public void Wrong_lengths_and_encodings_are_refused(string text) =>
        Assert.False(FastOpenCookieKey.TryParse(text, new byte[FastOpenCookieKey.Length]));

    [Fact]
    public void Socket_option_is_the_primary_then_the_backup()
    {
        Assert.Null(FastOpenCookieKey.ToSocketOption(null, null));
        Assert.Null(FastOpenCookieKey.ToSocketOption(" ", null));
        Assert.Equal(Expected, FastOpenCookieKey.ToSocketOption("000102030405060708090a0b0c0d0e0f", "")!);
        Assert.Equal(
            [.. Expected, .. Enumerable.Repeat((byte)0xff, 16)],
            FastOpenCookieKey.ToSocketOption("000102030405060708090a0b0c0d0e0f", "ffffffffffffffffffffffffffffffff")!);
    }

    [Fact]
    public void Validator_names_the_setting_and_never_shows_the_key()
    {
        var secret = "not-quite-a-key-but-secret-all-the-same";
        var result = new FastOpenTransportOptionsValidator().Validate(null, new FastOpenTransportOptions { CookieKey = secret, BackupCookieKey = secret });

        Assert.Equal(2, result.Failures!.Count());
        Assert.All(result.Failures!, failure => Assert.DoesNotContain(secret, failure, StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Kestrel:FastOpen:CookieKey must be 16 bytes", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Kestrel:FastOpen:BackupCookieKey must be 16 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void A_backup_key_alone_is_refused()
    {
        var result = new FastOpenTransportOptionsValidator().Validate(null, new FastOpenTransportOptions { BackupCookieKey = "AAECAwQFBgcICQoLDA0ODw==" });

        Assert.StartsWith("Kestrel:FastOpen:BackupCookieKey needs a CookieKey", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }
}
