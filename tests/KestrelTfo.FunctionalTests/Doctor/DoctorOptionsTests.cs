using KestrelTfo.Doctor;

namespace KestrelTfo.FunctionalTests.Doctor;

public sealed class DoctorOptionsTests
{
    [Theory]
    [InlineData("127.0.0.1:80", "127.0.0.1", 80)]
    [InlineData("localhost:5000", "localhost", 5000)]
    [InlineData("[::1]:443", "::1", 443)]
    [InlineData("[fe80::1%lo]:65535", "fe80::1%lo", 65535)]
    public void Check_target_parses(string text, string host, int port)
    {
        Assert.True(DoctorOptions.TryParse(["--check", text], out var options, out var error), error);

        Assert.Equal(new CheckTarget(host, port), options.Check);
        Assert.Equal(text, options.Check!.ToString());
    }

    [Fact]
    public void Options_combine_in_any_order_with_either_spelling()
    {
        Assert.True(DoctorOptions.TryParse(["--timeout=0.5", "--json", "--check=h:1"], out var options, out var error), error);

        Assert.Equal(new DoctorOptions(Json: true, new CheckTarget("h", 1), TimeSpan.FromSeconds(0.5), Help: false), options);
    }

    [Fact]
    public void No_arguments_mean_the_self_test_with_the_default_timeout()
    {
        Assert.True(DoctorOptions.TryParse([], out var options, out _));

        Assert.Equal(new DoctorOptions(false, null, TimeSpan.FromSeconds(5), false), options);
    }
}
