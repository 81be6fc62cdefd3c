using System.Runtime.Versioning;
using System.Security.Authentication;
using KestrelTfo.FunctionalTests.Infrastructure;
using KestrelTfo.OpenSsl;
using KestrelTfo.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KestrelTfo.FunctionalTests.Tls;

/// <summary>
/// The OpenSSL binding itself (it loads, its errors carry OpenSSL's reasons, its handles are freed), and the settings
/// the TLS layer cannot honour, which must fail start-up with a message that names them.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class OpenSslStartupTests
{
    [Fact]
    public void OpenSSL_3_loads()
    {
        Assert.Null(OpenSslLibrary.UnavailableReason);
        Assert.Equal(3UL, OpenSslLibrary.VersionNumber >> 28);
    }

    [Fact]
    public unsafe void A_failed_call_reports_OpenSSLs_reason_and_leaves_the_queue_empty()
    {
        using var server = new OpenSslServerContext(new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance }, HttpProtocols.Http1);
        using var context = Libssl.SSL_CTX_new(Libssl.TLS_server_method());
        var tooLong = new byte[64];

        OpenSslError.Clear();
        fixed (byte* sid = tooLong)
        {
            Assert.Equal(0, Libssl.SSL_CTX_set_session_id_context(context, sid, (uint)tooLong.Length));
        }

        var exception = OpenSslError.Exception("SSL_CTX_set_session_id_context");
        Assert.Contains("SSL_CTX_set_session_id_context failed", exception.Message);
        Assert.Contains("ssl session id context too long", exception.Message);
        Assert.Null(OpenSslError.Take());
    }

    [Fact]
    public void Disposing_frees_the_SSL_CTX_the_SSL_and_both_BIOs()
    {
        var server = new OpenSslServerContext(new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance }, HttpProtocols.Http1AndHttp2);
        var connection = OpenSslConnection.Create(server, new DefaultConnectionContext());

        Assert.False(connection.IsReleased);
        connection.Dispose();
        server.Dispose();

        Assert.True(connection.IsReleased);
        Assert.True(server.IsReleased);
    }

    public static TheoryData<string, Action<HttpsConnectionAdapterOptions>> Unsupported => new()
    {
        { "OnAuthenticate", o => o.OnAuthenticate = (_, _) => { } },
        { "TlsClientHelloBytesCallback", o => o.TlsClientHelloBytesCallback = (_, _) => { } },
        { "DelayCertificate", o => o.ClientCertificateMode = ClientCertificateMode.DelayCertificate },
#pragma warning disable CA5397, SYSLIB0039 // The point: a protocol the layer refuses.
        { "SslProtocols", o => o.SslProtocols = SslProtocols.Tls11 | SslProtocols.Tls12 },
#pragma warning restore CA5397, SYSLIB0039
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void A_setting_the_layer_cannot_honour_fails_with_its_name(string setting, Action<HttpsConnectionAdapterOptions> configure)
    {
        var options = new HttpsConnectionAdapterOptions { ServerCertificate = TestCertificate.Instance };
        configure(options);

        var exception = Assert.Throws<NotSupportedException>(() => new OpenSslServerContext(options, HttpProtocols.Http1AndHttp2));

        Assert.Contains(setting, exception.Message);
    }

    [Fact(Timeout = Limits.Test)]
    public async Task An_app_with_such_a_setting_does_not_start()
    {
        await using var app = OpenSslEndpoint.Start(https => https.OnAuthenticate = (_, _) => { });

        var exception = Assert.ThrowsAny<Exception>(() => app.EndPoint);

        Assert.Contains("HttpsConnectionAdapterOptions.OnAuthenticate", exception.ToString());
    }
}
