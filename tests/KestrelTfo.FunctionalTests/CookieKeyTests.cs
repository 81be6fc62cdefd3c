using KestrelTfo.Internal;
using System.Net;
using KestrelTfo.FunctionalTests.Infrastructure;
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
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory(Timeout = Limits.Test)]
    [InlineData(TestKeys.A, TestKeys.A, true)]
    [InlineData(TestKeys.A, TestKeys.B, false)]
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
    public async Task Keys_rotate_on_reload_without_failing_requests_on_new_connections()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        await using var app = StartReloadable(TestKeys.A, configuration, out var listener);
        Assert.False((await Get(app)).IsFastOpen);

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
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.A, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.B });
        Assert.Equal(TestKeys.A + TestKeys.B, Keys(listener));
        await Reached(secondMark, traffic);
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.A });
        Assert.Equal(TestKeys.B + TestKeys.A, Keys(listener));
        await traffic;

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B, ["Kestrel:FastOpen:BackupCookieKey"] = null });
        Assert.Equal(TestKeys.B, Keys(listener));

        // By now the client's cookie is one made under key B, which the key standing alone takes.
        Assert.True((await Get(app)).IsFastOpen);
        Assert.Equal(3, app.Logs.Transport.Count(e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.CookieKeysReloaded))));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(TestKeys.A, StringComparison.OrdinalIgnoreCase) || e.Message.Contains(TestKeys.B, StringComparison.OrdinalIgnoreCase));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task After_a_promotion_a_cookie_made_under_the_old_key_is_taken_under_the_backup_key_and_refused_once_that_is_gone()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        await using var app = StartReloadable(TestKeys.A, configuration, out var listener);

        // Two clients on addresses of their own, so each holds one cookie for this server, made under key A, and the
        // connection that offers it is their first since: nothing else can have given them a cookie under key B.
        var whileBackup = RawFastOpen.From(Loopback.NextAddress());
        var afterRetirement = RawFastOpen.From(Loopback.NextAddress());
        Assert.False((await Get(app, whileBackup)).IsFastOpen);
        Assert.False((await Get(app, afterRetirement)).IsFastOpen);

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.A, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.B });
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.A });
        Assert.Equal(TestKeys.B + TestKeys.A, Keys(listener));
        Assert.True((await Get(app, whileBackup)).IsFastOpen, "a key A cookie was refused while key A was the backup");

        // The same kind of cookie, once key A is gone: refused, so it was the backup key that took the first one.
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B, ["Kestrel:FastOpen:BackupCookieKey"] = null });
        Assert.Equal(TestKeys.B, Keys(listener));
        Assert.False((await Get(app, afterRetirement)).IsFastOpen, "a key A cookie was taken after key A was removed");
        Assert.True((await Get(app, afterRetirement)).IsFastOpen);
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
        await using var app = ReloadableInstance(TestKeys.A, configuration);
        await Get(app);
        Assert.True((await Get(app)).IsFastOpen);

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.C });

        // Cookie A is no longer valid: the request is served after a normal handshake, which hands out cookie C.
        Assert.False((await Get(app)).IsFastOpen);
        Assert.True((await Get(app)).IsFastOpen);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Invalid_keys_on_reload_are_rejected_and_the_keys_in_force_stay()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        await using var app = StartReloadable(TestKeys.A, configuration, out var listener);

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = "0011" });
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = "", ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.B });

        Assert.Equal(TestKeys.A, Keys(listener));
        var rejections = app.Logs.Transport.Where(e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.CookieKeysReloadRejected))).ToList();
        Assert.Equal(2, rejections.Count);
        Assert.All(rejections, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Contains("Kestrel:FastOpen:CookieKey must be 16 bytes", rejections[0].Message, StringComparison.Ordinal);
        Assert.Contains("Kestrel:FastOpen:BackupCookieKey needs a CookieKey", rejections[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(TestKeys.B, StringComparison.OrdinalIgnoreCase));
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
        await using var hex = Instance(address, TestKeys.A);
        await using var base64 = Instance(address, Convert.ToBase64String(Convert.FromHexString(TestKeys.A)), sockets);
        await using var kernelForm = Instance(address, KernelForm(Convert.FromHexString(TestKeys.A)));

        Assert.False((await Get(hex)).IsFastOpen);
        Assert.True((await Get(base64)).IsFastOpen);
        Assert.True((await Get(kernelForm)).IsFastOpen);
        Assert.Equal(TestKeys.A, Keys(sockets.Single));
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

    /// <summary>A started instance whose keys reload with <paramref name="configuration"/>, and its one listening socket.</summary>
    private static KestrelAppFactory<Program> StartReloadable(string key, ReloadableConfigurationSource configuration, out System.Net.Sockets.Socket listener)
    {
        var sockets = new ListenSockets();
        var app = ReloadableInstance(key, configuration, sockets);
        app.StartServer();
        listener = sockets.Single;
        return app;
    }

    private static KestrelAppFactory<Program> Instance(IPAddress address, string key, ListenSockets? sockets = null) =>
        new(settings: new() { ["Kestrel:FastOpen:CookieKey"] = key }, listen: o => o.Listen(address, 0), configure: sockets is null ? null : sockets.Install);

    private static async Task<TestApp.FastOpenReport> Get(KestrelAppFactory<Program> app, Func<System.Net.Sockets.Socket>? client = null) =>
        (await RawHttp.GetAsync(app.EndPoint, "/tfo", fastOpen: true, Timeout, client)).Report();

    private static string Keys(System.Net.Sockets.Socket listener) => ListenSockets.CookieKeys(listener);
}
