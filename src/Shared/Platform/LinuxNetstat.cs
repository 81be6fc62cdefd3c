using System.Buffers.Text;
using Microsoft.Win32.SafeHandles;

namespace KestrelTfo.Platform;

/// <summary>
/// Reads the kernel's TCP Fast Open counters from <c>/proc/net/netstat</c>, whose <c>TcpExt</c> section is a
/// header line of counter names followed by a line of values in the same order.
/// </summary>
/// <remarks>
/// Meant to be read on demand (an observable instrument's callback) and as often as anyone likes: the file is
/// opened once and read in place into a buffer kept for it, and the counters' columns are looked up once and
/// looked up again only when the header line differs from the one they came from, so a reading allocates nothing.
/// A counter the kernel lacks (older kernels have fewer) reads as 0 and is not
/// <see cref="TcpFastOpenCounters.IsPresent"/>. The file belongs to the network namespace the process was in when
/// it was opened. Thread safe.
/// </remarks>
internal sealed class LinuxNetstat : IDisposable
{
    public const string DefaultPath = "/proc/net/netstat";

    // Linux 6.x writes about 6 KB; the buffer grows when a file does not fit, up to a bound that no netstat reaches.
    private const int InitialBufferSize = 16 * 1024;
    private const int MaxBufferSize = 1024 * 1024;
    private static readonly int CounterCount = TcpFastOpenCounters.All.Length;

    private readonly string _path;
    private readonly Lock _lock = new();
    private readonly int[] _columns = new int[TcpFastOpenCounters.All.Length];
    private byte[] _buffer = new byte[InitialBufferSize];
    private byte[]? _header;
    private int _headerColumnCount;
    private SafeFileHandle? _handle;
    private bool _openFailed;
    private bool _disposed;

    public LinuxNetstat(string path = DefaultPath) => _path = path;

    /// <summary>Why the last <see cref="TryRead"/> returned false.</summary>
    public string? Error { get; private set; }

    private static ReadOnlySpan<byte> Section => "TcpExt:"u8;

    /// <summary>
    /// Reads the counters now. False when the file cannot be read or has no complete, well-formed <c>TcpExt</c>
    /// section (<see cref="Error"/> says which); a section without any TCP Fast Open counter reads as true with none present.
    /// </summary>
    public bool TryRead(out TcpFastOpenCounters counters)
    {
        lock (_lock)
        {
            counters = default;
            if (!TryFill(out var length))
            {
                return false;
            }

            if (!TryParseCore(_buffer.AsSpan(0, length), out counters))
            {
                Error = $"{_path} has no complete TcpExt section";
                return false;
            }

            return true;
        }
    }

    /// <summary>
    /// Parses the contents of a netstat file, with the same column cache <see cref="TryRead"/> uses. False when the
    /// <c>TcpExt</c> section is missing, truncated, or its two lines do not have the same number of columns.
    /// </summary>
    public bool TryParse(ReadOnlySpan<byte> content, out TcpFastOpenCounters counters)
    {
        lock (_lock)
        {
            return TryParseCore(content, out counters);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _handle?.Dispose();
            _handle = null;
        }
    }

    private bool TryFill(out int length)
    {
        length = 0;
        if (_disposed)
        {
            Error = "disposed";
            return false;
        }

        if (_handle is null)
        {
            // A /proc file that is not there (not Linux, /proc not mounted) does not appear later; ask once.
            if (_openFailed)
            {
                return false;
            }

            try
            {
                _handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                _openFailed = true;
                Error = $"{_path} cannot be opened ({e.Message})";
                return false;
            }
        }

        while (true)
        {
            int read;
            try
            {
                // procfs regenerates the file on a read at offset 0, so reading the same handle again gives fresh values.
                read = RandomAccess.Read(_handle, _buffer.AsSpan(length), length);
            }
            catch (IOException e)
            {
                Error = $"{_path} cannot be read ({e.Message})";
                return false;
            }

            length += read;

            // procfs hands out as much of the file as fits in one read, so a read that leaves room is the end.
            if (read == 0 || length < _buffer.Length)
            {
                return true;
            }

            if (_buffer.Length >= MaxBufferSize)
            {
                Error = $"{_path} is larger than {MaxBufferSize} bytes";
                return false;
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
    }

    private bool TryParseCore(ReadOnlySpan<byte> content, out TcpFastOpenCounters counters)
    {
        counters = default;
        if (!TryFindSection(content, out var header, out var values))
        {
            return false;
        }

        if (_header is null || !header.SequenceEqual(_header))
        {
            MapColumns(header);
            _header = header.ToArray();
        }

        var column = 0;
        while (NextToken(ref values, out var token))
        {
            var counter = _columns.AsSpan().IndexOf(column);
            if (counter >= 0)
            {
                // The kernel prints unsigned longs; one past long.MaxValue is not a count anyone will see.
                if (!Utf8Parser.TryParse(token, out ulong value, out var consumed) || consumed != token.Length || value > long.MaxValue)
                {
                    counters = default;
                    return false;
                }

                counters.Set(counter, (long)value, present: true);
            }

            column++;
        }

        // A value line cut short, or one column too many, would shift every value onto the wrong name.
        if (column != _headerColumnCount)
        {
            counters = default;
            return false;
        }

        return true;
    }

    private void MapColumns(ReadOnlySpan<byte> header)
    {
        _columns.AsSpan().Fill(-1);
        var column = 0;
        while (NextToken(ref header, out var name))
        {
            var counter = CounterIndex(name);
            if (counter >= 0)
            {
                _columns[counter] = column;
            }

            column++;
        }

        _headerColumnCount = column;
    }

    /// <summary>Finds the <c>TcpExt</c> header line and the value line after it, both without the section name.</summary>
    private static bool TryFindSection(ReadOnlySpan<byte> content, out ReadOnlySpan<byte> header, out ReadOnlySpan<byte> values)
    {
        header = default;
        values = default;
        while (!content.IsEmpty)
        {
            var end = content.IndexOf((byte)'\n');
            if (end < 0)
            {
                return false;
            }

            var line = content[..end];
            content = content[(end + 1)..];
            if (!line.StartsWith(Section))
            {
                continue;
            }

            // The kernel ends every line with a newline; a value line without one was cut off.
            end = content.IndexOf((byte)'\n');
            if (end < 0 || !content.StartsWith(Section))
            {
                return false;
            }

            header = line[Section.Length..];
            values = content[Section.Length..end];
            return true;
        }

        return false;
    }

    private static bool NextToken(ref ReadOnlySpan<byte> line, out ReadOnlySpan<byte> token)
    {
        line = line.TrimStart((byte)' ');
        if (line.IsEmpty)
        {
            token = default;
            return false;
        }

        var end = line.IndexOf((byte)' ');
        if (end < 0)
        {
            end = line.Length;
        }

        token = line[..end];
        line = line[end..];
        return true;
    }

    /// <summary>The position of a counter in <see cref="TcpFastOpenCounters.All"/>, or -1.</summary>
    private static int CounterIndex(ReadOnlySpan<byte> name)
    {
        Span<char> chars = stackalloc char[64];
        if (name.Length > chars.Length)
        {
            return -1;
        }

        for (var i = 0; i < name.Length; i++)
        {
            chars[i] = (char)name[i];
        }

        foreach (var counter in TcpFastOpenCounters.All)
        {
            if (chars[..name.Length].SequenceEqual(TcpFastOpenCounters.KernelName(counter)))
            {
                return (int)counter;
            }
        }

        return -1;
    }
}
