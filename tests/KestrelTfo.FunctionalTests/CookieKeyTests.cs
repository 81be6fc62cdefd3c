using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelTfo.FunctionalTests;

/// <summary>
/// Shared and rotated cookie keys. Linux caches a client's cookie per destination address, so two servers on one
/// address and different ports stand in for two instances behind a load balancer.
/// </summary>
public sealed class CookieKeyTests
{
    private const string KeyA = "000102030405060708090a0b0c0d0e0f";
    private const string KeyB = "f0e0d0c0b0a090807060504030201000";
    private const string KeyC = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData(KeyA, KeyA, true)]
    [InlineData(KeyA, KeyB, false)]
    public async Task A_cookie_from_one_instance_works_on_another_only_with_the_same_key(string firstKey, string secondKey, bool expectFastOpen)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextAddress();
        await using var first = Instance(address, firstKey);
        await using var second = Instance(address, secondKey);

        var cookieRequest = await Get(first);
        var otherInstance = await Get(second);

        Assert.False(cookieRequest.IsFastOpen);
        Assert.Equal(expectFastOpen, otherInstance.IsFastOpen);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Keys_rotate_on_reload_without_failing_requests_and_old_cookies_still_work()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        var sockets = new ListenSockets();
        await using var app = ReloadableInstance(KeyA, configuration, sockets);
        Assert.False((await Get(app)).IsFastOpen);
        var listener = sockets.Single;

        // Requests on new connections keep flowing while the keys change under them: each rotation waits until the
        // traffic has passed a mark, and the traffic does not wait for the rotations.
        var firstMark = new TaskCompletionSource();
        var secondMark = new TaskCompletionSource();
        var traffic = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                (i == 50 ? firstMark : i == 150 ? secondMark : null)?.TrySetResult();
                var response = await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout);
                Assert.Equal(200, response.StatusCode);
            }
        }, Timeout);

        // The documented recipe: the new key arrives as backup, is promoted with the old one as backup, then stands alone.
        await Reached(firstMark, traffic);
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = KeyA, ["Kestrel:FastOpen:BackupCookieKey"] = KeyB });
        Assert.Equal(KeyA + KeyB, Keys(listener));
        await Reached(secondMark, traffic);
        var altKeyBefore = PassiveAltKey();
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = KeyB, ["Kestrel:FastOpen:BackupCookieKey"] = KeyA });
        Assert.Equal(KeyB + KeyA, Keys(listener));
        await traffic;

        // The first connection after the promotion still held a cookie made with key A: the kernel took it under
        // the backup key, counted it, and handed out a key B cookie.
        Assert.True(PassiveAltKey() > altKeyBefore, "no connection was accepted under the backup key");

        // The client's cookie may still be one made with key A; it is accepted under the backup key.
        Assert.True((await Get(app)).IsFastOpen);

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = KeyB, ["Kestrel:FastOpen:BackupCookieKey"] = null });
        Assert.Equal(KeyB, Keys(listener));
        Assert.True((await Get(app)).IsFastOpen);

        Assert.Equal(3, app.Logs.Transport.Count(e => e.EventId.Id == 31));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(KeyA, StringComparison.OrdinalIgnoreCase) || e.Message.Contains(KeyB, StringComparison.OrdinalIgnoreCase));
    }

    // A mark the traffic never reaches (it failed first) ends the wait with the traffic's own failure.
    private static async Task Reached(TaskCompletionSource mark, Task traffic)
    {
        await Task.WhenAny(mark.Task, traffic).WaitAsync(Timeout);
        if (!mark.Task.IsCompleted)
        {
            await traffic;
            Assert.Fail("the traffic ended before it reached its mark");
        }
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_cookie_made_with_a_retired_key_falls_back_to_a_full_handshake()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        await using var app = ReloadableInstance(KeyA, configuration);
        await Get(app);
        Assert.True((await Get(app)).IsFastOpen);

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = KeyC });

        // Cookie A is no longer valid: the request is served after a normal handshake, which hands out cookie C.
        Assert.False((await Get(app)).IsFastOpen);
        Assert.True((await Get(app)).IsFastOpen);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Invalid_keys_on_reload_are_rejected_and_the_keys_in_force_stay()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        var sockets = new ListenSockets();
        await using var app = ReloadableInstance(KeyA, configuration, sockets);
        app.StartServer();
        var listener = sockets.Single;

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = "0011" });
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = "", ["Kestrel:FastOpen:BackupCookieKey"] = KeyB });

        Assert.Equal(KeyA, Keys(listener));
        var rejections = app.Logs.Transport.Where(e => e.EventId.Id == 32).ToList();
        Assert.Equal(2, rejections.Count);
        Assert.All(rejections, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Contains("Kestrel:FastOpen:CookieKey must be 16 bytes", rejections[0].Message, StringComparison.Ordinal);
        Assert.Contains("Kestrel:FastOpen:BackupCookieKey needs a CookieKey", rejections[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(KeyB, StringComparison.OrdinalIgnoreCase));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Kestrel:FastOpen:CookieKey", "not-a-key")]
    [InlineData("Kestrel:FastOpen:CookieKey", "000102030405060708090a0b0c0d0e")]
    [InlineData("Kestrel:FastOpen:BackupCookieKey", "AAECAwQFBgcICQoLDA0ODw==")]
    public async Task Invalid_keys_fail_start_up_naming_the_setting_not_the_key(string setting, string value)
    {
        await using var app = new KestrelAppFactory<Program>(settings: new() { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(app.StartServer);

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Base64_and_the_kernels_form_of_the_same_bytes_are_the_same_key_as_plain_hex()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var address = Loopback.NextAddress();
        var sockets = new ListenSockets();
        await using var hex = Instance(address, KeyA);
        await using var base64 = Instance(address, Convert.ToBase64String(Convert.FromHexString(KeyA)), sockets);
        await using var kernelForm = Instance(address, KernelForm(Convert.FromHexString(KeyA)));

        Assert.False((await Get(hex)).IsFastOpen);
        Assert.True((await Get(base64)).IsFastOpen);
        Assert.True((await Get(kernelForm)).IsFastOpen);
        Assert.Equal(KeyA, Keys(sockets.Single));
    }

    /// <summary>How net.ipv4.tcp_fastopen_key prints a key: four 32-bit words, each in the machine's byte order.</summary>
    internal static string KernelForm(byte[] key) =>
        string.Join('-', Enumerable.Range(0, 4).Select(i => BitConverter.ToUInt32(key, 4 * i).ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));

    private static KestrelAppFactory<Program> ReloadableInstance(string key, ReloadableConfigurationSource configuration, ListenSockets? sockets = null) =>
        new(settings: new() { ["Kestrel:FastOpen:CookieKey"] = key },
            configure: web =>
            {
                web.ConfigureAppConfiguration((_, c) => c.Add(configuration));
                sockets?.Install(web);
            });

    private static KestrelAppFactory<Program> Instance(IPAddress address, string key, ListenSockets? sockets = null) =>
        new(settings: new() { ["Kestrel:FastOpen:CookieKey"] = key }, listen: o => o.Listen(address, 0), configure: sockets is null ? null : sockets.Install);

    private static async Task<TestApp.FastOpenReport> Get(KestrelAppFactory<Program> app)
    {
        return (await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout)).Report();
    }

    private static long PassiveAltKey()
    {
        using var netstat = new LinuxNetstat();
        Assert.True(netstat.TryRead(out var counters), netstat.Error);
        return counters[TcpFastOpenCounter.PassiveAltKey];
    }

    private static string Keys(System.Net.Sockets.Socket listener) => ListenSockets.CookieKeys(listener);
}
