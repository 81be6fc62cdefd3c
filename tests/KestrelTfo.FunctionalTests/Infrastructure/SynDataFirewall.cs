
namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// An nftables rule in the test's own network namespace that drops every IPv4 SYN carrying data, as a firewall that
/// does not let TCP Fast Open through would; removed on dispose, also when the test fails.
/// </summary>
internal sealed class SynDataFirewall : IDisposable
{
    private const string Table = "kestreltfo_test_syn_data";

    private SynDataFirewall()
    {
    }

    public static SynDataFirewall Start()
    {
        // It changes the namespace's firewall: never the host's.
        FastOpenEnvironment.RequirePrivateNetworkNamespace();

        // A SYN's IP header and TCP header with every option a SYN carries (a TFO cookie included) take at most
        // 20 + 60 bytes: anything longer carries data.
        Nft($$"""
            table ip {{Table}} {
                chain input {
                    type filter hook input priority 0; policy accept;
                    tcp flags & (syn | ack) == syn ip length > 80 drop
                }
            }
            """);
        return new SynDataFirewall();
    }

    public void Dispose() => Nft($"delete table ip {Table}");

    private static void Nft(string script)
    {
        var (exitCode, output) = ChildProcess.RunAsync("nft", ["-f", "-"], TimeSpan.FromSeconds(10), CancellationToken.None, input: script)
            .GetAwaiter().GetResult();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"nft failed: {output}");
        }
    }
}
