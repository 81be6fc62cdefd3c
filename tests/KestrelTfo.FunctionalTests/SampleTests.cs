extern alias Sample;

using KestrelTfo.FunctionalTests.Infrastructure;
using SampleProgram = Sample::Program;

namespace KestrelTfo.FunctionalTests;

public sealed class SampleTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sample_says_a_plain_connection_did_not_use_TFO()
    {
        await using var app = new KestrelAppFactory<SampleProgram>();
        using var client = app.CreateClient();

        Assert.Equal("this connection did not use TFO\n", await client.GetStringAsync("/", Timeout));
    }

    [Fact]
    public async Task Sample_says_a_returning_TFO_client_used_TFO()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<SampleProgram>();

        var first = await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);
        var second = await RawHttp.GetAsync(app.EndPoint, "/", fastOpen: true, Timeout);

        Assert.Equal("this connection did not use TFO\n", first.Body);
        Assert.Equal($"this connection used TFO ({RawHttp.Request("/").Length} bytes of early data)\n", second.Body);
    }
}
