using System.Text;
using KestrelTfo.Client.Internal;

namespace KestrelTfo.Tests;

public sealed class FirstWriteTests
{
    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\n", nameof(FirstWriteKind.SafeRequest))]
    [InlineData("HEAD /x HTTP/1.1\r\n", nameof(FirstWriteKind.SafeRequest))]
    [InlineData("OPTIONS * HTTP/1.1\r\n", nameof(FirstWriteKind.SafeRequest))]
    [InlineData("GET http://origin/ HTTP/1.1\r\n", nameof(FirstWriteKind.SafeRequest))]
    [InlineData("POST /orders HTTP/1.1\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("PUT / HTTP/1.1\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("DELETE / HTTP/1.1\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("CONNECT origin:443 HTTP/1.1\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("get / HTTP/1.1\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("GETX / HTTP/1.1\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("GET", nameof(FirstWriteKind.Other))]
    [InlineData("", nameof(FirstWriteKind.Other))]
    public void Plaintext_is_safe_only_for_GET_HEAD_and_OPTIONS(string request, string expected) =>
        Assert.Equal(expected, FirstWrite.Classify(Encoding.ASCII.GetBytes(request)).ToString());

    [Theory]
    [InlineData("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\n\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("OPTIONS * HTTP/1.1\r\nUPGRADE:h2c\r\n\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("HEAD / HTTP/1.1\r\nUpgrade : websocket\r\n\r\n", nameof(FirstWriteKind.Other))]
    [InlineData("GET / HTTP/1.1\nUpgrade: websocket\n\n", nameof(FirstWriteKind.Other))]
    [InlineData("GET /upgrade HTTP/1.1\r\nHost: upgrade\r\nX-Upgrade: websocket\r\nUpgrade-Insecure-Requests: 1\r\n\r\n", nameof(FirstWriteKind.SafeRequest))]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\nUpgrade: websocket\r\n", nameof(FirstWriteKind.SafeRequest))]
    public void A_request_with_an_Upgrade_header_is_not_safe_to_replay(string request, string expected) =>
        Assert.Equal(expected, FirstWrite.Classify(Encoding.ASCII.GetBytes(request)).ToString());

    [Theory]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 }, nameof(FirstWriteKind.TlsClientHello))]
    [InlineData(new byte[] { 0x16, 0x03 }, nameof(FirstWriteKind.TlsClientHello))]
    [InlineData(new byte[] { 0x16 }, nameof(FirstWriteKind.Other))]
    [InlineData(new byte[] { 0x16, 0x02, 0x00 }, nameof(FirstWriteKind.Other))]
    [InlineData(new byte[] { 0x17, 0x03, 0x03 }, nameof(FirstWriteKind.Other))]
    public void A_TLS_handshake_record_is_a_ClientHello(byte[] data, string expected) =>
        Assert.Equal(expected, FirstWrite.Classify(data).ToString());
}
