using System.Runtime.Versioning;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.Internal;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// TLS session tickets under configured keys (<c>TicketKey</c>, <c>BackupTicketKey</c>), with <c>openssl s_client</c>
/// saving a session on one connection and offering it on the next. Each instance listens on a loopback address of its
/// own, so a session that resumes on another instance resumes at another server address, as behind DNAT. Every saved
/// session is offered once, so the tests hold under a replay defence that lets a ticket resume once. They also guard
/// the early data to come: OpenSSL's own anti-replay (early data on without <c>SSL_OP_NO_ANTI_REPLAY</c>) makes TLS 1.3
/// tickets stateful, a session id in one process's cache, which no other instance can resume.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class TicketKeyTests
{
    private const string Tls13 = "-tls1_3";

    [Theory(Timeout = Limits.Test)]
    [InlineData(TestKeys.TicketA, TestKeys.TicketA, "-tls1_3", "TLSv1.3", true)]
    [InlineData(TestKeys.TicketA, TestKeys.TicketA, "-tls1_2", "TLSv1.2", true)]
    [InlineData(TestKeys.TicketA, TestKeys.TicketB, "-tls1_3", "TLSv1.3", false)]
    [InlineData(null, null, "-tls1_3", "TLSv1.3", false)]
    public async Task A_session_from_one_instance_resumes_on_another_only_under_the_same_key(
        string? firstKey, string? secondKey, string versionOption, string openSslName, bool expectResumed)
    {
        await using var first = Instance(firstKey);
        await using var second = Instance(secondKey);
        using var session = new SessionFile();

        var issued = await OpenSslEndpoint.SClientAsync(first, versionOption, "-sess_out", session.Path);
        var offered = await OpenSslEndpoint.SClientAsync(second, versionOption, "-sess_in", session.Path);

        Assert.NotEqual(first.EndPoint.Address, second.EndPoint.Address);
        Assert.Contains($"New, {openSslName}", issued, StringComparison.Ordinal);
        Assert.Contains(expectResumed ? $"Reused, {openSslName}" : $"New, {openSslName}", offered, StringComparison.Ordinal);
        Assert.Contains("\"tlsFeatureType\":\"KestrelTfo.Tls.OpenSslTlsFeature\"", offered, StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task A_session_resumes_after_a_restart_under_the_same_key()
    {
        using var session = new SessionFile();
        await using (var before = Instance(TestKeys.TicketA))
        {
            await OpenSslEndpoint.SClientAsync(before, Tls13, "-sess_out", session.Path);
        }

        await using var after = Instance(TestKeys.TicketA);

        Assert.Contains("Reused, TLSv1.3", await OpenSslEndpoint.SClientAsync(after, Tls13, "-sess_in", session.Path), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Keys_rotate_in_three_steps_over_reloads_and_a_session_under_the_old_key_resumes_while_it_is_the_backup()
    {
        var configuration = new ReloadableConfigurationSource();
        configuration.Reload(new() { [Key] = TestKeys.TicketA });
        await using var app = Instance(configuration);
        using var whileBackup = new SessionFile();
        using var afterRemoval = new SessionFile();
        using var renewed = new SessionFile();
        await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_out", whileBackup.Path);
        await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_out", afterRemoval.Path);

        // 1: the new key arrives as backup; 2: it is promoted, the old one kept as backup; 3: the old one is removed.
        configuration.Reload(new() { [Key] = TestKeys.TicketA, [BackupKey] = TestKeys.TicketB });
        configuration.Reload(new() { [Key] = TestKeys.TicketB, [BackupKey] = TestKeys.TicketA });
        var underBackup = await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_in", whileBackup.Path, "-sess_out", renewed.Path);
        configuration.Reload(new() { [Key] = TestKeys.TicketB, [BackupKey] = null });
        var underRemoved = await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_in", afterRemoval.Path);
        var underNew = await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_in", renewed.Path);

        Assert.Contains("Reused, TLSv1.3", underBackup, StringComparison.Ordinal);
        Assert.Contains("New, TLSv1.3", underRemoved, StringComparison.Ordinal);

        // The ticket the backup key's resumption handed out is under the new key, which alone is left.
        Assert.Contains("Reused, TLSv1.3", underNew, StringComparison.Ordinal);
        Assert.Equal(3, TlsLog(app).Count(e => e.EventId == LogEvents.Of(typeof(OpenSslTlsLog), nameof(OpenSslTlsLog.TicketKeysReloaded))));
        Assert.DoesNotContain(app.Logs.Entries, e => ShowsKey(e.Message, TestKeys.TicketA) || ShowsKey(e.Message, TestKeys.TicketB));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Keys_added_by_a_reload_take_over_and_removed_by_one_give_way_to_the_endpoints_own()
    {
        var configuration = new ReloadableConfigurationSource();
        await using var app = Instance(configuration);
        await using var other = Instance(TestKeys.TicketA);
        using var ownKey = new SessionFile();
        using var configuredKey = new SessionFile();
        using var afterRemoval = new SessionFile();
        await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_out", ownKey.Path);

        configuration.Reload(new() { [Key] = TestKeys.TicketA });
        var ownAfterAdding = await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_in", ownKey.Path, "-sess_out", configuredKey.Path);
        var elsewhere = await OpenSslEndpoint.SClientAsync(other, Tls13, "-sess_in", configuredKey.Path);
        configuration.Reload(new() { [Key] = null });
        await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_out", afterRemoval.Path);
        var removedElsewhere = await OpenSslEndpoint.SClientAsync(other, Tls13, "-sess_in", afterRemoval.Path);

        // A ticket of the endpoint's own key, from before the keys came, still resumes, and its replacement is under key A.
        Assert.Contains("Reused, TLSv1.3", ownAfterAdding, StringComparison.Ordinal);
        Assert.Contains("Reused, TLSv1.3", elsewhere, StringComparison.Ordinal);
        Assert.Contains("New, TLSv1.3", removedElsewhere, StringComparison.Ordinal);
        var removed = Assert.Single(TlsLog(app), e => e.EventId == LogEvents.Of(typeof(OpenSslTlsLog), nameof(OpenSslTlsLog.TicketKeysRemoved)));
        Assert.Equal(LogLevel.Warning, removed.Level);
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData(TestKeys.TicketA, "0011", "Kestrel:FastOpen:TicketKey must be 32 bytes written as 64 hex digits")]
    [InlineData(TestKeys.TicketA, TestKeys.A, "Kestrel:FastOpen:TicketKey must be 32 bytes written as 64 hex digits")]
    [InlineData(TestKeys.TicketA, TestKeys.TicketA + "," + TestKeys.TicketB, "Kestrel:FastOpen:TicketKey holds two keys")]
    public async Task An_invalid_reload_is_logged_and_the_keys_in_force_stay(string key, string reloaded, string message)
    {
        var configuration = new ReloadableConfigurationSource();
        configuration.Reload(new() { [Key] = key });
        await using var app = Instance(configuration);
        using var session = new SessionFile();
        await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_out", session.Path);

        configuration.Reload(new() { [Key] = reloaded });

        Assert.Contains("Reused, TLSv1.3", await OpenSslEndpoint.SClientAsync(app, Tls13, "-sess_in", session.Path), StringComparison.Ordinal);
        var rejected = Assert.Single(app.Logs.Transport, e => e.EventId == LogEvents.Transport(nameof(FastOpenLog.CookieKeysReloadRejected)));
        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Contains(message, rejected.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TlsLog(app), e => e.EventId == LogEvents.Of(typeof(OpenSslTlsLog), nameof(OpenSslTlsLog.TicketKeysReloaded)));
        Assert.DoesNotContain(app.Logs.Entries, e => ShowsKey(e.Message, key) || e.Message.Contains(reloaded, StringComparison.OrdinalIgnoreCase));
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("Kestrel:FastOpen:TicketKey", "0011", null, "Kestrel:FastOpen:TicketKey must be 32 bytes written as 64 hex digits")]
    [InlineData("Kestrel:FastOpen:TicketKey", TestKeys.A, null, "Kestrel:FastOpen:TicketKey must be 32 bytes written as 64 hex digits")]
    [InlineData("Kestrel:FastOpen:TicketKey", "00010203-04050607-08090a0b-0c0d0e0f", null, "Kestrel:FastOpen:TicketKey must be 32 bytes")]
    [InlineData("Kestrel:FastOpen:BackupTicketKey", TestKeys.TicketB, null, "Kestrel:FastOpen:BackupTicketKey needs a TicketKey")]
    [InlineData("Kestrel:FastOpen:BackupTicketKey", "not a key", TestKeys.TicketA, "Kestrel:FastOpen:BackupTicketKey must be 32 bytes")]
    [InlineData("Kestrel:FastOpen:BackupTicketKey", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", TestKeys.TicketA, "Kestrel:FastOpen:BackupTicketKey is the same key as TicketKey")]
    public async Task Invalid_keys_fail_start_up_saying_what_is_wrong_without_showing_the_key(string setting, string value, string? primary, string message)
    {
        await using var app = OpenSslEndpoint.Start(settings: new() { [setting] = value, [Key] = primary ?? (setting == Key ? value : null) });

        var error = Assert.Throws<OptionsValidationException>(app.StartServer);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(primary is not null && ShowsKey(error.Message, primary), "the primary key shows");
    }

    [Theory(Timeout = Limits.Test)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", null, "TicketKey is all zeros")]
    [InlineData("abababababababababababababababababababababababababababababababab", null, "TicketKey is one byte repeated")]
    [InlineData(TestKeys.A + TestKeys.A, null, "TicketKey is the same 16 bytes twice")]
    [InlineData(TestKeys.TicketA, "0000000000000000000000000000000000000000000000000000000000000000", "BackupTicketKey is all zeros")]
    [InlineData(TestKeys.TicketA, TestKeys.TicketB, null)]
    public async Task Weak_keys_warn_at_start_up_naming_the_weakness_and_are_used_all_the_same(string key, string? backup, string? weakness)
    {
        await using var first = Instance(key, backup);
        await using var second = Instance(key, backup);
        using var session = new SessionFile();

        await OpenSslEndpoint.SClientAsync(first, Tls13, "-sess_out", session.Path);

        Assert.Contains("Reused, TLSv1.3", await OpenSslEndpoint.SClientAsync(second, Tls13, "-sess_in", session.Path), StringComparison.Ordinal);
        var warnings = TlsLog(first).Where(e => e.EventId == LogEvents.Of(typeof(OpenSslTlsLog), nameof(OpenSslTlsLog.TicketKeysWeak))).ToList();
        Assert.Equal(weakness is null ? 0 : 1, warnings.Count);
        Assert.All(warnings, w => Assert.True(w.Level == LogLevel.Warning && w.Message.Contains(weakness!, StringComparison.Ordinal), w.Message));
        Assert.DoesNotContain(first.Logs.Entries, e => ShowsKey(e.Message, key) || (backup is not null && ShowsKey(e.Message, backup)));
    }

    [Fact(Timeout = Limits.Test)]
    public async Task Without_the_transport_keys_come_from_the_apps_options_and_follow_their_reloads()
    {
        var configuration = new ReloadableConfigurationSource();
        configuration.Reload(new() { [Key] = TestKeys.TicketA });
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();

        // Only the test's own settings: the output directory's appsettings.json is the sample's, which turns on early data.
        builder.Configuration.Sources.Clear();
        ((IConfigurationBuilder)builder.Configuration).Add(configuration);
        builder.Services.Configure<FastOpenTransportOptions>(builder.Configuration.GetSection(FastOpenTransportOptions.ConfigurationSectionName));
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(Loopback.NextAddress(), 0, listen => listen.UseOpenSslHttps(TestCertificate.Instance)));
        await using var tlsOnly = builder.Build();
        await tlsOnly.StartAsync(TestContext.Current.CancellationToken);
        var endPoint = ServerEndPoints.Of(tlsOnly.Services)[0];
        await using var other = Instance(TestKeys.TicketA);
        using var underA = new SessionFile();
        using var underB = new SessionFile();

        await OpenSslEndpoint.SClientAsync(endPoint, Tls13, "-sess_out", underA.Path);
        configuration.Reload(new() { [Key] = TestKeys.TicketB });
        await OpenSslEndpoint.SClientAsync(endPoint, Tls13, "-sess_out", underB.Path);

        Assert.Empty(tlsOnly.Services.GetServices<IConnectionListenerFactory>().OfType<FastOpenTransportFactory>());
        Assert.Contains("Reused, TLSv1.3", await OpenSslEndpoint.SClientAsync(other, Tls13, "-sess_in", underA.Path), StringComparison.Ordinal);
        Assert.Contains("New, TLSv1.3", await OpenSslEndpoint.SClientAsync(other, Tls13, "-sess_in", underB.Path), StringComparison.Ordinal);
    }

    [Fact(Timeout = Limits.Test)]
    public void A_context_says_whether_configured_keys_are_in_force_as_reloads_change_them()
    {
        var options = new FastOpenTransportOptions { TicketKey = TestKeys.TicketA };
        using var ring = new TicketKeyRing(options, NullLoggerFactory.Instance);
        using var configured = new OpenSslServerContext(new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance }, HttpProtocols.Http1, ring);
        using var own = new OpenSslServerContext(new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance }, HttpProtocols.Http1);

        var before = configured.HasConfiguredTicketKeys;
        ring.Update(null, null);
        var afterRemoval = configured.HasConfiguredTicketKeys;
        ring.Update(TestKeys.TicketB, TestKeys.TicketA);

        Assert.Equal((true, false, true, false), (before, afterRemoval, configured.HasConfiguredTicketKeys, own.HasConfiguredTicketKeys));
    }

    private const string Key = "Kestrel:FastOpen:TicketKey";

    private const string BackupKey = "Kestrel:FastOpen:BackupTicketKey";

    private static KestrelAppFactory<Program> Instance(string? key, string? backup = null) =>
        OpenSslEndpoint.Start(settings: new() { [Key] = key, [BackupKey] = backup });

    /// <summary>An instance whose ticket keys come from <paramref name="configuration"/> alone, so a reload can remove them.</summary>
    private static KestrelAppFactory<Program> Instance(ReloadableConfigurationSource configuration) =>
        OpenSslEndpoint.Start(host: web => web.ConfigureAppConfiguration((_, c) => c.Add(configuration)));

    private static IEnumerable<LogEntry> TlsLog(KestrelAppFactory<Program> app) => app.Logs.Entries.Where(e => e.Category == OpenSslTlsLog.Category);

    // The key as hex (either case) or base64.
    private static bool ShowsKey(string text, string key)
    {
        var bytes = Convert.FromHexString(key);
        return text.Contains(Convert.ToHexString(bytes), StringComparison.OrdinalIgnoreCase) || text.Contains(Convert.ToBase64String(bytes), StringComparison.Ordinal);
    }
}
