using Microsoft.Extensions.Configuration;

namespace KestrelTfo.FunctionalTests.Infrastructure;

internal sealed class ReloadableConfigurationProvider : ConfigurationProvider
{
    public void Reload(Dictionary<string, string?> values)
    {
        foreach (var (key, value) in values)
        {
            if (value is null)
            {
                Data.Remove(key);
            }
            else
            {
                Data[key] = value;
            }
        }

        OnReload();
    }
}
