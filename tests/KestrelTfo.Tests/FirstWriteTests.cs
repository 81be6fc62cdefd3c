using System.Text;
using CsCheck;
using KestrelTfo.Client.Internal;

namespace KestrelTfo.Tests;

public sealed class FirstWriteTests
{
    private const int Iterations = 20_000;

    // Header names a safe request may carry, in any case; the forbidden ones make any request unsafe.
    private static readonly string[] s_harmlessNames = ["Host", "Accept", "User-Agent", "Accept-Encoding", "traceparent", "X-Upgrade", "Upgrade-Insecure-Requests", "Connection"];
    private static readonly string[] s_forbiddenNames = ["Transfer-Encoding", "Upgrade", "Expect", "Content-Length"];
    private static readonly string[] s_unsafeMethods = ["POST", "PUT", "DELETE", "PATCH", "CONNECT", "TRACE", "QUERY", "get", "Get", "GETX", "PRI", "PROPFIND"];

    private static readonly Gen<string> s_safeMethod = Gen.OneOf("GET", "HEAD", "OPTIONS");
    private static readonly Gen<string> s_target = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789/-._~%?=&"], 1, 40].Select(path => "/" + path);
    private static readonly Gen<string> s_version = Gen.OneOf("HTTP/1.0", "HTTP/1.1");
    private static readonly Gen<string> s_value = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789 ,;=/*.-\t"], 0, 30];
    private static readonly Gen<string> s_nameCase = Gen.OneOf("as is", "lower", "upper");
    private static readonly Gen<(string Name, string Value)[]> s_harmlessHeaders =
        Gen.Select(Gen.OneOf(s_harmlessNames), s_nameCase, s_value, (name, casing, value) => (Case(name, casing), value)).Array[0, 8];

    /// <summary>A request head that is exactly one safe request.</summary>
    private static readonly Gen<string> s_safeRequest =
        Gen.Select(s_safeMethod, s_target, s_version, s_harmlessHeaders, Gen.Int[0, 2], (method, target, version, headers, contentLength) =>
            Head(method, target, version, contentLength == 1 ? [.. headers, ("Content-Length", "0")] : headers));

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("OPTIONS * HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://origin/ HTTP/1.1\r\nHost: origin\r\n\r\n")]
    [InlineData("GET /upgrade HTTP/1.1\r\nHost: upgrade\r\nX-Upgrade: websocket\r\nUpgrade-Insecure-Requests: 1\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nContent-Length:  0 \r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nX-Obs: caf\u00e9\r\n\r\n")]
    public void Exactly_one_GET_HEAD_or_OPTIONS_head_is_safe(string request) =>
        Assert.Equal(FirstWriteKind.SafeRequest, FirstWrite.Classify(Encoding.Latin1.GetBytes(request)));

    [Theory]
    [InlineData("POST /orders HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("CONNECT origin:443 HTTP/1.1\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("get / HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /pay HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\nUpgrade: websocket\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("OPTIONS * HTTP/1.1\r\nUPGRADE:h2c\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("HEAD / HTTP/1.1\r\nUpgrade : websocket\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\nHost: a\n\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\nPOST /pay HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n")]
    [InlineData("")]
    public void Anything_else_is_not_safe(string request) =>
        Assert.Equal(FirstWriteKind.Other, FirstWrite.Classify(Encoding.Latin1.GetBytes(request)));

    [Theory]
    [InlineData("curl-tls12.bin")]
    [InlineData("curl-tls13.bin")]
    [InlineData("sslstream-tls12.bin")]
    [InlineData("sslstream-tls13.bin")]
    public void A_whole_ClientHello_alone_is_safe_and_with_anything_after_it_or_cut_short_is_not(string file)
    {
        var hello = ClientHelloCorpus.Read(file);

        Assert.Equal(FirstWriteKind.TlsClientHello, FirstWrite.Classify(hello));
        for (var length = 0; length < hello.Length; length++)
        {
            Assert.Equal(FirstWriteKind.Other, FirstWrite.Classify(hello.AsSpan(0, length)));
        }

        // An early-data record, a second hello, a stray byte: none may ride in a SYN with the hello.
        Assert.Equal(FirstWriteKind.Other, FirstWrite.Classify([.. hello, 0x17, 0x03, 0x03, 0x00, 0x01, 0x00]));
        Assert.Equal(FirstWriteKind.Other, FirstWrite.Classify([.. hello, .. hello]));
        Assert.Equal(FirstWriteKind.Other, FirstWrite.Classify([.. hello, 0x00]));
    }

    [Fact]
    public void Every_generated_safe_request_is_safe() =>
        s_safeRequest.Sample(request => FirstWrite.Classify(Encoding.Latin1.GetBytes(request)) == FirstWriteKind.SafeRequest, iter: Iterations);

    [Fact]
    public void No_write_with_an_unsafe_method_is_safe() =>
        Gen.Select(Gen.OneOf(s_unsafeMethods), s_target, s_version, s_harmlessHeaders, (method, target, version, headers) => Head(method, target, version, headers))
            .Sample(request => FirstWrite.Classify(Encoding.Latin1.GetBytes(request)) == FirstWriteKind.Other, iter: Iterations);

    [Fact]
    public void No_write_with_a_forbidden_header_anywhere_in_any_case_is_safe() =>
        Gen.Select(s_safeMethod, s_target, s_harmlessHeaders, Gen.OneOf(s_forbiddenNames), s_nameCase, Gen.Int[0, 8], Gen.Int[1, 99_999],
                (method, target, headers, forbidden, casing, at, length) =>
                {
                    // A Content-Length is forbidden unless it is a lone 0, so the generated one is never 0.
                    var value = forbidden == "Content-Length" ? length.ToString(System.Globalization.CultureInfo.InvariantCulture) : "x";
                    var list = headers.ToList();
                    list.Insert(Math.Min(at, list.Count), (Case(forbidden, casing), value));
                    return Head(method, target, "HTTP/1.1", [.. list]);
                })
            .Sample(request => FirstWrite.Classify(Encoding.Latin1.GetBytes(request)) == FirstWriteKind.Other, iter: Iterations);

    [Fact]
    public void No_safe_request_followed_by_anything_is_safe() =>
        Gen.Select(s_safeRequest, Gen.OneOf(s_safeRequest, s_safeRequest.Select(r => "POST" + r[r.IndexOf(' ', StringComparison.Ordinal)..]), Gen.String[1, 64]),
                (request, trailer) => request + trailer)
            .Sample(write => FirstWrite.Classify(Encoding.Latin1.GetBytes(write)) == FirstWriteKind.Other, iter: Iterations);

    [Fact]
    public void Early_data_takes_exactly_the_requests_a_SYN_takes_unless_they_carry_an_Early_Data_field() =>
        Gen.Select(s_safeRequest, Gen.OneOf(s_unsafeMethods), s_nameCase, Gen.Int[0, 8], (request, method, casing, at) =>
            {
                var withField = request.Replace("\r\n\r\n", $"\r\n{Case("Early-Data", casing)}: 1\r\n\r\n", StringComparison.Ordinal);
                var unsafeRequest = method + request[request.IndexOf(' ', StringComparison.Ordinal)..];
                return (request, withField, unsafeRequest);
            })
            .Sample(
                writes => FirstWrite.IsSafeEarlyData(Encoding.Latin1.GetBytes(writes.request))
                    && !FirstWrite.IsSafeEarlyData(Encoding.Latin1.GetBytes(writes.withField))
                    && FirstWrite.Classify(Encoding.Latin1.GetBytes(writes.withField)) == FirstWriteKind.SafeRequest
                    && !FirstWrite.IsSafeEarlyData(Encoding.Latin1.GetBytes(writes.unsafeRequest)),
                iter: Iterations);

    [Fact]
    public void No_first_part_of_a_write_that_holds_an_unsafe_request_is_safe_while_it_holds_the_unsafe_part()
    {
        // A POST cut anywhere after its method, or a safe request cut anywhere after the start of a Transfer-Encoding line
        // that follows it: the part still holds what makes it unsafe, so it is never safe.
        Gen.Select(s_safeRequest, Gen.Int[0, 1000], (request, cut) =>
            {
                var unsafeWrite = request.Replace("\r\n\r\n", "\r\nTransfer-Encoding: chunked\r\n\r\n", StringComparison.Ordinal);
                var marker = unsafeWrite.IndexOf("Transfer-Encoding", StringComparison.Ordinal) + "Transfer-Encoding".Length;
                return unsafeWrite[..Math.Min(unsafeWrite.Length, marker + (cut % (unsafeWrite.Length - marker + 1)))];
            })
            .Sample(write => FirstWrite.Classify(Encoding.Latin1.GetBytes(write)) == FirstWriteKind.Other, iter: Iterations);
    }

    private static string Head(string method, string target, string version, (string Name, string Value)[] headers)
    {
        var head = new StringBuilder($"{method} {target} {version}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(':').Append(value).Append("\r\n");
        }

        return head.Append("\r\n").ToString();
    }

    private static string Case(string name, string casing) => casing switch
    {
        "lower" => name.ToLowerInvariant(),
        "upper" => name.ToUpperInvariant(),
        _ => name,
    };
}
