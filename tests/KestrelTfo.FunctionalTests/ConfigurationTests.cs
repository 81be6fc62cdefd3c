using KestrelTfo.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KestrelTfo.FunctionalTests;

public sealed class ConfigurationTests
{
    [Fact(Timeout = Limits.Test)]
    public async Task Options_bind_from_the_Kestrel_FastOpen_section()
    {
        await using var app = new KestrelAppFactory<Program>(settings: new()
        {
            ["Kestrel:FastOpen:QueueLength"] = "17",
            ["Kestrel:FastOpen:Backlog"] = "33",
            ["Kestrel:FastOpen:NoDelay"] = "false",
            ["Kestrel:FastOpen:RequireFastOpen"] = "false",
            ["Kestrel:FastOpen:MaxReadBufferSize"] = "",
        });
        app.StartServer();

        var options = app.Services.GetRequiredService<IOptions<FastOpenTransportOptions>>().Value;

        Assert.Equal(17, options.QueueLength);
        Assert.Equal(33, options.Backlog);
        Assert.False(options.NoDelay);
        Assert.Null(options.MaxReadBufferSize);
        Assert.Equal(64 * 1024, options.MaxWriteBufferSize);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Code_overrides_configuration()
    {
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:QueueLength"] = "17", ["Kestrel:FastOpen:Backlog"] = "33" },
            configure: web => web.UseFastOpenTransport(o => o.QueueLength = 99));
        app.StartServer();

        var options = app.Services.GetRequiredService<IOptions<FastOpenTransportOptions>>().Value;

        Assert.Equal(99, options.QueueLength);
        Assert.Equal(33, options.Backlog);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Kestrel:FastOpen:QueueLength", "-1")]
    [InlineData("Kestrel:FastOpen:QueueLength", "0")]
    [InlineData("Kestrel:FastOpen:Backlog", "-5")]
    [InlineData("Kestrel:FastOpen:IOQueueCount", "-1")]
    [InlineData("Kestrel:FastOpen:MaxWriteBufferSize", "-1")]
    public async Task Bad_value_fails_start_up_naming_the_setting(string key, string value)
    {
        await using var app = new KestrelAppFactory<Program>(settings: new() { [key] = value });

        var error = Assert.ThrowsAny<Exception>(app.StartServer);

        var validation = Assert.IsType<OptionsValidationException>(error);
        Assert.Contains(key, validation.Message, StringComparison.Ordinal);
        Assert.Contains(value, validation.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Value_of_the_wrong_type_fails_start_up_naming_the_setting()
    {
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:QueueLength"] = "lots" });

        var error = Assert.ThrowsAny<Exception>(app.StartServer);

        Assert.Contains("Kestrel:FastOpen:QueueLength", error.ToString(), StringComparison.Ordinal);
    }
}
