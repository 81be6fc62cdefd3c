namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>A file of its own for a TLS session that <c>openssl s_client</c> saves and offers again; deleted when disposed.</summary>
internal sealed class SessionFile : IDisposable
{
    public string Path { get; } = System.IO.Path.GetTempFileName();

    public void Dispose() => File.Delete(Path);
}
