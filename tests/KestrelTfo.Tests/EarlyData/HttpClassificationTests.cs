using System.Text;
using KestrelTfo.EarlyData;
using Microsoft.AspNetCore.Http;

namespace KestrelTfo.Tests.EarlyData;

public sealed class HttpClassificationTests
{
    private const string Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    public static TheoryData<string> StandardMethods => new(
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete,
        HttpMethods.Connect, HttpMethods.Options, HttpMethods.Trace, HttpMethods.Patch, HttpMethods.Query);

    [Theory]
    [MemberData(nameof(StandardMethods))]
    public void Standard_method_request_gives_the_shared_method_string(string method)
    {
        var result = Classify($"{method} /orders?id=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");

        Assert.Equal(EarlyDataKind.HttpRequest, result.Kind);
        Assert.Same(method, result.HttpMethod);
        Assert.False(result.IsReplaySafe);
    }

    [Theory]
    [MemberData(nameof(StandardMethods))]
    public void Standard_method_and_a_space_are_enough(string method)
    {
        var result = Classify(method + " ");

        Assert.Equal(EarlyDataKind.HttpRequest, result.Kind);
        Assert.Same(method, result.HttpMethod);
    }

    [Theory]
    [MemberData(nameof(StandardMethods))]
    public void Standard_method_cut_short_before_its_space_is_Unknown(string method)
    {
        for (var length = 1; length <= method.Length; length++)
        {
            Assert.Equal(EarlyDataKind.Unknown, Classify(method[..length]).Kind);
        }
    }

    [Theory]
    [InlineData("PROPFIND /files HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("get / HTTP/1.1\r\n")]          // methods are case-sensitive: this is an extension method
    [InlineData("GETX / HTTP/1.0\r\n")]
    [InlineData("M-SEARCH * HTTP/1.1\n")]       // a bare LF ends the line too
    [InlineData("PRI * HTTP/1.1\r\n")]          // PRI, but not the HTTP/2 preface
    [InlineData("PRI /x HTTP/1.1\r\n")]
    public void Extension_method_with_a_whole_request_line_is_an_HttpRequest_without_a_method(string data)
    {
        var result = Classify(data);

        Assert.Equal(EarlyDataKind.HttpRequest, result.Kind);
        Assert.Null(result.HttpMethod);
        Assert.False(result.IsReplaySafe);
    }

    [Theory]
    [InlineData("PROPFIND /files HTTP/1.1")]    // the line does not end
    [InlineData("PROPFIND /files HTTP/1.1\r")]
    [InlineData("PROPFIND /files HTTP/1.")]
    [InlineData("PROPFIND /files")]
    [InlineData("PROPFIND ")]
    [InlineData("PROPFIND /files HTTP/2.0\r\n")]
    [InlineData("PROPFIND /files HTTP/1.x\r\n")]
    [InlineData("PROPFIND /files HTTP/1.1 \r\n")]
    [InlineData("PROPFIND  /files HTTP/1.1\r\n")]
    [InlineData("PROPFIND /fi\tles HTTP/1.1\r\n")]
    [InlineData("PROP(FIND /files HTTP/1.1\r\n")]
    [InlineData(" GET / HTTP/1.1\r\n")]
    [InlineData(" / HTTP/1.1\r\n")]
    [InlineData("\r\nGET / HTTP/1.1\r\n")]
    [InlineData("GET\t/ HTTP/1.1\r\n")]
    public void Extension_method_without_a_whole_valid_request_line_is_Unknown(string data)
    {
        Assert.Equal(EarlyDataKind.Unknown, Classify(data).Kind);
    }

    [Fact]
    public void Http2_preface_and_every_prefix_of_it_from_four_bytes_is_an_Http2Preface()
    {
        for (var length = 1; length <= Preface.Length; length++)
        {
            var result = Classify(Preface[..length]);

            Assert.Equal(length >= 4 ? EarlyDataKind.Http2Preface : EarlyDataKind.Unknown, result.Kind);
            Assert.False(result.IsReplaySafe);
            Assert.Null(result.HttpMethod);
        }
    }

    [Fact]
    public void Http2_preface_followed_by_frames_is_an_Http2Preface()
    {
        // An empty SETTINGS frame, then the start of a HEADERS frame.
        byte[] data = [.. Encoding.ASCII.GetBytes(Preface), 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0x20, 1, 5, 0, 0, 0, 1];

        Assert.Equal(EarlyDataKind.Http2Preface, EarlyDataClassifier.Classify(data).Kind);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n")]
    [InlineData("hello")]
    [InlineData("\0\0\0\0\0\0\0\0")]
    [InlineData("*1\r\n$4\r\nPING\r\n")]
    public void Other_protocols_and_garbage_are_Unknown(string data)
    {
        var result = Classify(data);

        Assert.Equal(EarlyDataKind.Unknown, result.Kind);
        Assert.False(result.IsReplaySafe);
        Assert.Null(result.HttpMethod);
    }

    private static EarlyDataClassification Classify(string data) =>
        EarlyDataClassifier.Classify(Encoding.Latin1.GetBytes(data));
}
