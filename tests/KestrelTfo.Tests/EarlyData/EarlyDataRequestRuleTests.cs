using KestrelTfo.EarlyData;

namespace KestrelTfo.Tests.EarlyData;

public sealed class EarlyDataRequestRuleTests
{
    private const EarlyDataRequestHandling RunAtOnce = EarlyDataRequestHandling.RunAtOnce;
    private const EarlyDataRequestHandling Wait = EarlyDataRequestHandling.WaitForHandshake;
    private const EarlyDataRequestHandling TooEarly = EarlyDataRequestHandling.TooEarly;

    [Theory]
    [InlineData("GET", false, null, Wait, RunAtOnce)]
    [InlineData("HEAD", false, null, Wait, RunAtOnce)]
    [InlineData("OPTIONS", false, null, Wait, RunAtOnce)]
    [InlineData("POST", false, null, Wait, Wait)]
    [InlineData("PUT", false, null, Wait, Wait)]
    [InlineData("DELETE", false, null, TooEarly, TooEarly)]
    [InlineData("PATCH", false, null, RunAtOnce, RunAtOnce)]
    [InlineData("get", false, null, Wait, Wait)]
    [InlineData("TRACE", false, null, Wait, Wait)]
    [InlineData("POST", false, RunAtOnce, Wait, RunAtOnce)]
    [InlineData("GET", false, Wait, Wait, Wait)]
    [InlineData("GET", false, TooEarly, Wait, TooEarly)]
    [InlineData("POST", true, null, Wait, TooEarly)]
    [InlineData("GET", true, null, Wait, RunAtOnce)]
    [InlineData("GET", true, Wait, Wait, TooEarly)]
    [InlineData("POST", true, RunAtOnce, Wait, RunAtOnce)]
    [InlineData("POST", true, null, RunAtOnce, RunAtOnce)]
    public void Safe_methods_run_at_once_the_endpoint_decides_when_it_says_and_a_proxy_request_never_waits(
        string method, bool fromProxy, EarlyDataRequestHandling? endpoint, EarlyDataRequestHandling unsafeDefault, EarlyDataRequestHandling expected) =>
        Assert.Equal(expected, EarlyDataRequestRule.Decide(method, fromProxy, endpoint, unsafeDefault));

    [Theory]
    [InlineData("GET", true)]
    [InlineData("HEAD", true)]
    [InlineData("OPTIONS", true)]
    [InlineData("POST", false)]
    [InlineData("GETS", false)]
    [InlineData("", false)]
    public void Both_forms_of_the_safe_method_list_agree(string method, bool safe)
    {
        Assert.Equal(safe, ReplaySafeMethods.IsSafe(method));
        Assert.Equal(safe, ReplaySafeMethods.IsSafe(System.Text.Encoding.ASCII.GetBytes(method)));
    }
}
