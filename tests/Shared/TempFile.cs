namespace KestrelTfo.Testing;

/// <summary>A file in the temporary directory for the length of a test, deleted on dispose, even when the test fails.</summary>
internal sealed class TempFile : IDisposable
{
    /// <summary>Creates an empty file, or one holding <paramref name="contents"/>.</summary>
    public TempFile(string? contents = null)
    {
        Path = System.IO.Path.GetTempFileName();
        if (contents is not null)
        {
            File.WriteAllText(Path, contents);
        }
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
