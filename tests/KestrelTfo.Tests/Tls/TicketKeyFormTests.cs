using KestrelTfo.Internal;
using KestrelTfo.Tls;

namespace KestrelTfo.Tests.Tls;

/// <summary>TLS ticket keys as configuration writes them, what is derived from them, and how the options validator judges them.</summary>
public sealed class TicketKeyFormTests
{
    private static readonly byte[] InOrder = Convert.FromHexString(TestKeys.TicketA);

    private readonly FastOpenTransportOptionsValidator _validator = new();

    [Theory]
    [InlineData(TestKeys.TicketA)]
    [InlineData("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")]
    [InlineData("  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n")]
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")]
    public void Hex_and_base64_are_the_32_bytes_in_order(string text)
    {
        var secret = new byte[TlsTicketKey.Length];

        Assert.True(TlsTicketKey.TryParse(text, secret, out var problem), problem);
        Assert.Equal(InOrder, secret);
    }

    [Theory]
    [InlineData("", "must be 32 bytes written as 64 hex digits")]
    [InlineData(TestKeys.A, "must be 32 bytes written as 64 hex digits (`openssl rand -hex 32`) or in base64 (`openssl rand -base64 32`), but the value given (32 characters) is neither")]
    [InlineData(TestKeys.TicketA + "00", "must be 32 bytes")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==", "must be 32 bytes")]
    [InlineData("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "must be 32 bytes")]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0f", "must be 32 bytes")]
    [InlineData(TestKeys.TicketA + "," + TestKeys.TicketB, "holds two keys, as the sysctl prints a primary and a backup key; put the second one in BackupTicketKey")]
    public void Wrong_lengths_and_forms_are_refused_saying_why_without_the_key(string text, string expected)
    {
        Assert.False(TlsTicketKey.TryParse(text, new byte[TlsTicketKey.Length], out var problem));

        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("0001020304", problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_derived_name_and_keys_are_HKDF_SHA256_of_the_secret_with_a_label_each()
    {
        // Computed with Python's hmac and hashlib (RFC 5869, empty salt): a change here strands every ticket a fleet holds.
        Span<byte> name = stackalloc byte[16];
        Span<byte> hmacKey = stackalloc byte[TlsTicketKey.DerivedKeyLength];
        Span<byte> aesKey = stackalloc byte[TlsTicketKey.DerivedKeyLength];

        TlsTicketKey.Derive(InOrder, name, hmacKey, aesKey);

        Assert.Equal("19b0a01caa0f502a61b642eac5bf4c76", Convert.ToHexStringLower(name));
        Assert.Equal("4dd35544bf5bedfcd917a84c2ddb7764a627b5f0d70cec89fec8ac8e7b9443e5", Convert.ToHexStringLower(hmacKey));
        Assert.Equal("8499bef0dfee2664ccc1d33f7f4eefae5a7435c87a641e9552a6b2735d74c638", Convert.ToHexStringLower(aesKey));
    }

    [Fact]
    public void Keys_are_found_by_their_derived_names_the_primary_first()
    {
        using var keys = OpenSslTicketKeys.FromSecrets(Convert.FromHexString(TestKeys.TicketA), Convert.FromHexString(TestKeys.TicketB));
        using var primaryOnly = OpenSslTicketKeys.FromSecrets(Convert.FromHexString(TestKeys.TicketA));
        using var swapped = OpenSslTicketKeys.FromSecrets(Convert.FromHexString(TestKeys.TicketB), Convert.FromHexString(TestKeys.TicketA));
        using var random = OpenSslTicketKeys.CreateRandom();
        using var again = OpenSslTicketKeys.FromSecrets(Convert.FromHexString(TestKeys.TicketA), Convert.FromHexString(TestKeys.TicketB));

        Assert.Equal(2, keys.Count);
        Assert.Equal(0, keys.Find(primaryOnly.Name(0)));
        Assert.Equal(1, keys.Find(swapped.Name(0)));
        Assert.Equal(-1, keys.Find(random.Name(0)));
        Assert.False(keys.SameKeysAs(primaryOnly));
        Assert.False(keys.SameKeysAs(swapped));
        Assert.True(keys.SameKeysAs(again));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "TicketKey is all zeros")]
    [InlineData("abababababababababababababababababababababababababababababababab", "TicketKey is one byte repeated")]
    [InlineData(TestKeys.A + TestKeys.A, "TicketKey is the same 16 bytes twice")]
    [InlineData(TestKeys.TicketA, null)]
    public void Weak_keys_are_named_by_their_weakness(string key, string? weakness)
    {
        var problem = TlsTicketKey.Weakness("TicketKey", Convert.FromHexString(key));

        if (weakness is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.StartsWith(weakness, problem, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("0011", null, "Kestrel:FastOpen:TicketKey must be 32 bytes")]
    [InlineData(null, TestKeys.TicketB, "Kestrel:FastOpen:BackupTicketKey needs a TicketKey")]
    [InlineData(TestKeys.TicketA, "0011", "Kestrel:FastOpen:BackupTicketKey must be 32 bytes")]
    [InlineData(TestKeys.TicketA, TestKeys.TicketA, "Kestrel:FastOpen:BackupTicketKey is the same key as TicketKey")]
    [InlineData(TestKeys.TicketA, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "Kestrel:FastOpen:BackupTicketKey is the same key as TicketKey")]
    public void The_validator_says_exactly_what_is_wrong_with_ticket_keys(string? key, string? backup, string expected)
    {
        var result = _validator.Validate(null, new FastOpenTransportOptions { TicketKey = key, BackupTicketKey = backup });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("0001020304", failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Valid_ticket_keys_pass_the_validator()
    {
        Assert.True(_validator.Validate(null, new FastOpenTransportOptions { TicketKey = TestKeys.TicketA, BackupTicketKey = TestKeys.TicketB }).Succeeded);
        Assert.True(_validator.Validate(null, new FastOpenTransportOptions { TicketKey = TestKeys.TicketA }).Succeeded);
    }
}
