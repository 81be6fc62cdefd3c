using KestrelTfo.Internal;
using KestrelTfo.Platform;
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
    [InlineData(TestKeys.A, TestKeys.A, true, "ipv4")]
    [InlineData(TestKeys.A, TestKeys.B, false, "ipv4")]
    [InlineData(TestKeys.A, TestKeys.A, true, "ipv6")]
    [InlineData(TestKeys.A, TestKeys.B, false, "ipv6")]
    public async Task A_cookie_from_one_instance_works_on_another_only_with_the_same_key(string firstKey, string secondKey, bool expectFastOpen, string family)
    {
        FastOpenEnvironment.RequireClientAndServerBits();

        // On IPv6 an address of the test's own, not ::1, whose cookie any other test may have fetched.
        var address = SynPayloads.LoopbackOf(family);
        var sockets = new ListenSockets();
        await using var first = Instance(address, firstKey);
        await using var second = Instance(address, secondKey, sockets);

        var cookieRequest = await Get(first);
        var otherInstance = await Get(second);

        Assert.Equal(address, first.EndPoint.Address);
        Assert.False(cookieRequest.IsFastOpen);
        Assert.Equal(expectFastOpen, otherInstance.IsFastOpen);
        Assert.True((await Get(second)).IsFastOpen);
        Assert.Equal(secondKey, Keys(sockets.Single));
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

    private const string ZeroKey = "00000000000000000000000000000000";

    [Theory(Timeout = Limits.Test)]
    [InlineData(ZeroKey, null, "CookieKey is all zeros")]
    [InlineData("0-0-0-0", null, "CookieKey is all zeros")]
    [InlineData(TestKeys.A, ZeroKey, "BackupCookieKey is all zeros")]
    [InlineData(TestKeys.A, TestKeys.A, "BackupCookieKey is the same as CookieKey")]
    [InlineData(TestKeys.A, "000102030405060708090A0B0C0D0E0F", "BackupCookieKey is the same as CookieKey")]
    [InlineData(TestKeys.A, TestKeys.B, null)]
    public async Task Weak_keys_warn_at_start_up_naming_the_weakness_not_the_key_and_are_used_all_the_same(string key, string? backup, string? weakness)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var sockets = new ListenSockets();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:CookieKey"] = key, ["Kestrel:FastOpen:BackupCookieKey"] = backup },
            configure: sockets.Install);

        Assert.False((await Get(app)).IsFastOpen);
        Assert.True((await Get(app)).IsFastOpen);

        // The kernel takes them, so the listener runs on exactly the keys configured: only the log can tell.
        Assert.Equal(Hex(key) + (backup is null ? "" : Hex(backup)), Keys(sockets.Single));
        var warnings = app.Logs.Transport.Where(e => e.EventId.Name == nameof(FastOpenLog.CookieKeysWeak)).ToList();
        if (weakness is null)
        {
            Assert.Empty(warnings);
            return;
        }

        var warning = Assert.Single(warnings);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(weakness, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => ShowsKey(e.Message, key) || (backup is not null && ShowsKey(e.Message, backup)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Weak_keys_on_reload_warn_once_and_are_applied()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var configuration = new ReloadableConfigurationSource();
        await using var app = StartReloadable(TestKeys.A, configuration, out var listener);

        // The step of a rotation where the new key goes in as primary and the operator forgot to move the old one out.
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.B });
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.B, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.B });

        Assert.Equal(TestKeys.B + TestKeys.B, Keys(listener));
        var warning = Assert.Single(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.CookieKeysWeak)));
        Assert.Contains("BackupCookieKey is the same as CookieKey", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => ShowsKey(e.Message, TestKeys.A) || ShowsKey(e.Message, TestKeys.B));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_key_removed_on_reload_warns_and_the_keys_in_force_stay_for_cookies_made_under_them()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        // The key only in the source that reloads, so that removing it there leaves the app with no key at all.
        var configuration = new ReloadableConfigurationSource();
        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.A });
        var sockets = new ListenSockets();
        await using var app = new KestrelAppFactory<Program>(configure: web =>
        {
            web.ConfigureAppConfiguration((_, c) => c.Add(configuration));
            sockets.Install(web);
        });
        app.StartServer();
        var listener = sockets.Single;
        Assert.Equal(TestKeys.A, Keys(listener));
        var client = RawFastOpen.From(Loopback.NextAddress());
        Assert.False((await Get(app, client)).IsFastOpen);

        configuration.Reload(new() { ["Kestrel:FastOpen:CookieKey"] = null, ["Kestrel:FastOpen:BackupCookieKey"] = null });

        var removed = Assert.Single(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.CookieKeysRemoved)));
        Assert.Equal(LogLevel.Warning, removed.Level);
        Assert.DoesNotContain(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.CookieKeysReloaded)));
        Assert.Equal(TestKeys.A, Keys(listener));

        // The client's only cookie was made under key A, so the kernel's own key could not have taken it.
        Assert.True((await Get(app, client)).IsFastOpen, "a cookie made under the key in force was refused after the key was removed from configuration");
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("upper-case hex")]
    [InlineData("hex with spaces around")]
    [InlineData("base64")]
    [InlineData("kernel form")]
    [InlineData("kernel form, upper case")]
    [InlineData("kernel form without leading zeros")]
    [InlineData("kernel form with 0x")]
    public async Task Every_text_form_the_kernel_or_the_options_take_makes_the_cookies_of_the_same_key(string form)
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        var bytes = Convert.FromHexString(TestKeys.A);
        var words = KernelForm(bytes).Split('-');
        var text = form switch
        {
            "upper-case hex" => TestKeys.A.ToUpperInvariant(),
            "hex with spaces around" => $"  {TestKeys.A}\t",
            "base64" => Convert.ToBase64String(bytes),
            "kernel form" => KernelForm(bytes),
            "kernel form, upper case" => KernelForm(bytes).ToUpperInvariant(),
            "kernel form without leading zeros" => string.Join('-', words.Select(w => w.TrimStart('0') is { Length: > 0 } t ? t : "0")),

            // The sysctl takes this too (checked on 6.18: %x skips a 0x), so a key written for it may come with one.
            "kernel form with 0x" => string.Join('-', words.Select(w => "0x" + w)),
            _ => throw new ArgumentOutOfRangeException(nameof(form)),
        };
        Assert.NotEqual(TestKeys.A, text);
        var address = Loopback.NextAddress();
        var sockets = new ListenSockets();
        await using var hex = Instance(address, TestKeys.A);
        await using var other = Instance(address, text, sockets);

        Assert.False((await Get(hex)).IsFastOpen);
        Assert.True((await Get(other)).IsFastOpen, $"a cookie made under the hex key was refused under its {form}");
        Assert.Equal(TestKeys.A, Keys(sockets.Single));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task No_form_of_a_key_shows_in_the_health_check_or_the_logs()
    {
        FastOpenEnvironment.RequireClientAndServerBits();
        await using var app = new KestrelAppFactory<Program>(
            settings: new() { ["Kestrel:FastOpen:CookieKey"] = TestKeys.A, ["Kestrel:FastOpen:BackupCookieKey"] = TestKeys.B });
        await Get(app);
        Assert.True((await Get(app)).IsFastOpen);

        var entry = (await app.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync(Timeout)).Entries["tcp_fast_open"];
        using var http = app.CreateIndependentClient();
        var endpoint = await http.GetStringAsync("/health", Timeout);

        var shown = string.Join('\n', [entry.Description, .. entry.Data.Select(d => $"{d.Key}={d.Value}"), entry.Exception?.ToString(), endpoint, .. app.Logs.Entries.Select(e => e.Message)]);
        Assert.Contains($"listener {app.EndPoint}", shown, StringComparison.Ordinal);
        Assert.False(ShowsKey(shown, TestKeys.A), "key A shows");
        Assert.False(ShowsKey(shown, TestKeys.B), "key B shows");
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(TestKeys.A + "," + TestKeys.B)]
    [InlineData(TestKeys.KernelText + "," + TestKeys.KernelText)]
    [InlineData(TestKeys.A + "00")]
    [InlineData("AAECAwQFBgcICQoLDA0ODxA=")]
    [InlineData("00010203-04050607-08090a0b-0c0d0e0g")]
    public async Task A_key_that_almost_parses_fails_start_up_without_showing_any_part_of_it(string value)
    {
        await using var app = new KestrelAppFactory<Program>(settings: new() { ["Kestrel:FastOpen:CookieKey"] = value });

        var error = Assert.Throws<OptionsValidationException>(app.StartServer);

        Assert.Contains("Kestrel:FastOpen:CookieKey", error.Message, StringComparison.Ordinal);
        var shown = error.ToString() + string.Join('\n', app.Logs.Entries.Select(e => e.Message));
        Assert.All(value.Split(',', '-'), part => Assert.DoesNotContain(part, shown, StringComparison.OrdinalIgnoreCase));
        Assert.False(ShowsKey(shown, TestKeys.A), "key A shows");
    }

    // A key as any of the forms configuration takes, in either case: the hex digits, base64, the kernel's words.
    private static bool ShowsKey(string text, string key)
    {
        var bytes = new byte[FastOpenCookieKey.Length];
        if (!FastOpenCookieKey.TryParse(key, bytes, out _))
        {
            return text.Contains(key, StringComparison.OrdinalIgnoreCase);
        }

        return text.Contains(Convert.ToHexString(bytes), StringComparison.OrdinalIgnoreCase)
            || text.Contains(Convert.ToBase64String(bytes), StringComparison.Ordinal)
            || KernelForm(bytes).Split('-').Any(word => text.Contains(word, StringComparison.OrdinalIgnoreCase));
    }

    private static string Hex(string key)
    {
        var bytes = new byte[FastOpenCookieKey.Length];
        Assert.True(FastOpenCookieKey.TryParse(key, bytes, out _));
        return Convert.ToHexString(bytes).ToLowerInvariant();
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
