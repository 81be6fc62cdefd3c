using KestrelTfo.Doctor;

namespace KestrelTfo.FunctionalTests.Doctor;

public sealed class DoctorOptionsTests
{
    [Theory]
    [InlineData("127.0.0.1:80", "127.0.0.1", 80, false, "127.0.0.1:80")]
    [InlineData("localhost:5000", "localhost", 5000, false, "localhost:5000")]
    [InlineData("[::1]:443", "::1", 443, false, "[::1]:443")]
    [InlineData("[fe80::1%lo]:65535", "fe80::1%lo", 65535, false, "[fe80::1%lo]:65535")]
    [InlineData("http://example:8080", "example", 8080, false, "example:8080")]
    [InlineData("http://example", "example", 80, false, "example:80")]
    [InlineData("https://example", "example", 443, true, "https://example:443")]
    [InlineData("https://[::1]:8443/", "::1", 8443, true, "https://[::1]:8443")]
    public void Check_targets_parse(string text, string host, int port, bool tls, string shown)
    {
        Assert.True(CheckTarget.TryParse(text, out var target));

        Assert.Equal(new CheckTarget(host, port, tls), target);
        Assert.Equal(shown, target.ToString());
    }

    [Theory]
    [InlineData("example")]
    [InlineData("::1:80")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("[::1]80")]
    [InlineData("ftp://example:21")]
    [InlineData("https://example/path")]
    [InlineData("https://user@example")]
    public void Malformed_check_targets_do_not_parse(string text) => Assert.False(CheckTarget.TryParse(text, out _));
}
