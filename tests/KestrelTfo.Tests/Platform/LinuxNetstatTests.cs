using System.Globalization;
using System.Text;
using KestrelTfo.Platform;

namespace KestrelTfo.Tests.Platform;

public sealed class LinuxNetstatTests
{
    // /proc/net/netstat of Linux 6.18 (this repository's CI machine), as read on it.
    private static readonly string s_linux618 = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Platform", "netstat-linux-6.18.txt"));


    [Fact]
    public void Real_file_parses_to_the_values_under_the_TCPFastOpen_names()
    {
        var expected = ReadByName(s_linux618);

        Assert.True(new LinuxNetstat().TryParse(Encoding.ASCII.GetBytes(s_linux618), out var counters));

        AssertCounters(Expected(expected), counters);
    }

    [Fact]
    public void Every_counter_comes_from_its_own_column()
    {
        // The real header with a distinct value in every column: a counter read from a neighbour's column shows.
        var content = WithDistinctValues(s_linux618);
        var expected = ReadByName(content);

        Assert.True(new LinuxNetstat().TryParse(Encoding.ASCII.GetBytes(content), out var counters));

        AssertCounters(Expected(expected), counters);
        Assert.All(TcpFastOpenCounters.All, counter => Assert.NotEqual(0, expected[TcpFastOpenCounters.KernelName(counter)]));
    }

    [Fact]
    public void Counters_an_older_kernel_lacks_read_as_zero_and_absent()
    {
        // Linux 4.9 has neither TCPFastOpenBlackhole (4.11) nor TCPFastOpenPassiveAltKey (5.3).
        var content = Section(
            ("TCPChallengeACK", 5), ("TCPFastOpenActive", 11), ("TCPFastOpenActiveFail", 12), ("TCPFastOpenPassive", 13),
            ("TCPFastOpenPassiveFail", 14), ("TCPFastOpenListenOverflow", 15), ("TCPFastOpenCookieReqd", 16), ("TCPAutoCorking", 17));

        Assert.True(new LinuxNetstat().TryParse(content, out var counters));

        AssertCounters(
            new()
            {
                [TcpFastOpenCounter.Active] = 11, [TcpFastOpenCounter.ActiveFail] = 12, [TcpFastOpenCounter.Passive] = 13,
                [TcpFastOpenCounter.PassiveFail] = 14, [TcpFastOpenCounter.ListenOverflow] = 15, [TcpFastOpenCounter.CookieReqd] = 16,
            },
            counters);
    }

    [Fact]
    public void A_kernel_without_TFO_counters_reads_as_none_present()
    {
        Assert.True(new LinuxNetstat().TryParse(Section(("SyncookiesSent", 1), ("TW", 2)), out var counters));

        AssertCounters([], counters);
    }

    [Fact]
    public void Reordered_columns_are_found_again_by_the_same_reader()
    {
        var reader = new LinuxNetstat();
        Assert.True(reader.TryParse(Section(("TCPFastOpenPassive", 1), ("TCPFastOpenActive", 2), ("Other", 3)), out var first));

        Assert.True(reader.TryParse(Section(("Other", 3), ("TCPFastOpenActive", 20), ("TCPFastOpenPassive", 10)), out var second));
        Assert.True(reader.TryParse(Section(("TCPFastOpenActive", 200), ("TCPFastOpenPassive", 100)), out var third));

        Assert.Equal((1L, 2L), (first[TcpFastOpenCounter.Passive], first[TcpFastOpenCounter.Active]));
        Assert.Equal((10L, 20L), (second[TcpFastOpenCounter.Passive], second[TcpFastOpenCounter.Active]));
        Assert.Equal((100L, 200L), (third[TcpFastOpenCounter.Passive], third[TcpFastOpenCounter.Active]));
    }

    [Fact]
    public void Every_truncation_of_the_TcpExt_section_fails_instead_of_misreading()
    {
        var content = Encoding.ASCII.GetBytes(s_linux618);
        var sectionEnd = content.AsSpan().IndexOf("\nIpExt:"u8) + 1;
        var reader = new LinuxNetstat();
        Assert.True(reader.TryParse(content.AsSpan(0, sectionEnd), out _));

        for (var length = 0; length < sectionEnd; length++)
        {
            Assert.False(reader.TryParse(content.AsSpan(0, length), out var counters), $"a file cut after {length} bytes parsed");
            AssertCounters([], counters);
        }
    }

    [Theory]
    [InlineData("IpExt: InNoRoutes\nIpExt: 0\n")]
    [InlineData("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nIpExt: 1 2\n")]
    [InlineData("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 1\n")]
    [InlineData("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 1 2 3\n")]
    [InlineData("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 1 two\n")]
    [InlineData("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 1 -2\n")]
    [InlineData("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 1 99999999999999999999\n")]
    public void Malformed_sections_do_not_parse(string content) =>
        Assert.False(new LinuxNetstat().TryParse(Encoding.ASCII.GetBytes(content), out _));

    [Fact]
    public void A_file_that_cannot_be_opened_says_so()
    {
        using var reader = new LinuxNetstat("/nonexistent/netstat");

        Assert.False(reader.TryRead(out _));
        Assert.Contains("/nonexistent/netstat cannot be opened", reader.Error, StringComparison.Ordinal);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Rereading_a_file_sees_its_new_contents()
    {
        WithTempFile(path =>
        {
            using var reader = new LinuxNetstat(path);
            File.WriteAllBytes(path, Section(("TCPFastOpenPassive", 1)));
            Assert.True(reader.TryRead(out var first));

            // procfs rewrites the file in place; a regular file stands in for it here.
            File.WriteAllBytes(path, Section(("TCPFastOpenPassive", 7), ("TCPFastOpenActive", 8)));
            Assert.True(reader.TryRead(out var second));

            Assert.Equal(1, first[TcpFastOpenCounter.Passive]);
            Assert.Equal((7L, 8L), (second[TcpFastOpenCounter.Passive], second[TcpFastOpenCounter.Active]));
        });
    }

    [Fact]
    public void A_file_larger_than_the_buffer_is_read_whole()
    {
        WithTempFile(path =>
        {
            // The TcpExt section after 40 KB of other sections.
            var filler = string.Concat(Enumerable.Repeat("IpExt: " + new string('x', 1000) + "\nIpExt: 0\n", 40));
            File.WriteAllText(path, filler + Encoding.ASCII.GetString(Section(("TCPFastOpenPassive", 42))));
            using var reader = new LinuxNetstat(path);

            Assert.True(reader.TryRead(out var counters), reader.Error);

            Assert.Equal(42, counters[TcpFastOpenCounter.Passive]);
        });
    }

    [Fact]
    public void A_read_allocates_nothing()
    {
        WithTempFile(path =>
        {
            File.WriteAllText(path, WithDistinctValues(s_linux618));
            using var reader = new LinuxNetstat(path);
            Assert.True(reader.TryRead(out _), reader.Error);

            AssertReadsAllocateNothing(reader);
        });
    }

    [Fact]
    public void A_read_of_proc_allocates_nothing()
    {
        FastOpenEnvironment.SkipUnless(File.Exists(LinuxNetstat.DefaultPath), $"needs {LinuxNetstat.DefaultPath}");
        using var reader = new LinuxNetstat();
        Assert.True(reader.TryRead(out var counters), reader.Error);
        Assert.True(counters.IsPresent(TcpFastOpenCounter.Passive));

        AssertReadsAllocateNothing(reader);
    }

    private static void AssertReadsAllocateNothing(LinuxNetstat reader)
    {
        var ok = true;
        var fewest = Allocations.Fewest(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                ok &= reader.TryRead(out _);
            }
        });

        Assert.True(ok, reader.Error);
        Assert.Equal(0, fewest);
    }

    private static void WithTempFile(Action<string> test)
    {
        var path = Path.GetTempFileName();
        try
        {
            test(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Section(params (string Name, long Value)[] columns) => Encoding.ASCII.GetBytes(
        "TcpExt: " + string.Join(' ', columns.Select(c => c.Name)) + "\n" +
        "TcpExt: " + string.Join(' ', columns.Select(c => c.Value.ToString(CultureInfo.InvariantCulture))) + "\n" +
        "IpExt: InNoRoutes\nIpExt: 0\n");

    private static string WithDistinctValues(string content)
    {
        var lines = content.Split('\n');
        var columns = lines[0].Split(' ').Length - 1;
        lines[1] = "TcpExt: " + string.Join(' ', Enumerable.Range(0, columns).Select(i => (1000 + i).ToString(CultureInfo.InvariantCulture)));
        return string.Join('\n', lines);
    }

    /// <summary>An independent, allocating reading of the TcpExt section: name to value.</summary>
    private static Dictionary<string, long> ReadByName(string content)
    {
        var lines = content.Split('\n');
        var names = lines[0].Split(' ').Skip(1);
        var values = lines[1].Split(' ').Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture));
        return names.Zip(values).ToDictionary(p => p.First, p => p.Second);
    }

    private static Dictionary<TcpFastOpenCounter, long> Expected(Dictionary<string, long> byName) =>
        TcpFastOpenCounters.All.ToDictionary(counter => counter, counter => byName[TcpFastOpenCounters.KernelName(counter)]);

    /// <summary>Every counter in <paramref name="expected"/> is present with its value; every other one is absent and 0.</summary>
    private static void AssertCounters(Dictionary<TcpFastOpenCounter, long> expected, TcpFastOpenCounters counters)
    {
        foreach (var counter in TcpFastOpenCounters.All)
        {
            Assert.Equal(expected.ContainsKey(counter), counters.IsPresent(counter));
            Assert.Equal(expected.GetValueOrDefault(counter), counters[counter]);
        }
    }
}
