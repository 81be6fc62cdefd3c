using Microsoft.Extensions.Configuration;

namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// In-memory configuration that a test changes while the app runs, raising the same reload token a changed
/// appsettings.json or a rotated Kubernetes secret would.
/// </summary>
internal sealed class ReloadableConfigurationSource : IConfigurationSource
{
    private readonly ReloadableConfigurationProvider _provider = new();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => _provider;

    /// <summary>Replaces the given keys (null removes one) and raises one reload.</summary>
    public void Reload(Dictionary<string, string?> values) => _provider.Reload(values);
}
