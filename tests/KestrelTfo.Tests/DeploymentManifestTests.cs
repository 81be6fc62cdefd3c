using System.Globalization;
using KestrelTfo.Internal;
using KestrelTfo.Platform;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace KestrelTfo.Tests;

/// <summary>
/// The Kubernetes manifests in deploy/kubernetes cannot drift from the code: every configuration key they set binds to a
/// real transport option and passes the transport's own validation, every Secret key they read is in the Secret, and the
/// sysctl they set is the one the doctor prescribes.
/// </summary>
public sealed class DeploymentManifestTests
{
    private static readonly string s_directory = Path.Combine(AppContext.BaseDirectory, "deploy", "kubernetes");

    // What a value read from the Secret stands for here: a key in the form `openssl rand -hex 16` prints.
    private const string SecretKey = "000102030405060708090a0b0c0d0e0f";

    [Fact]
    public void Every_configuration_key_the_deployment_sets_binds_to_a_transport_option_and_passes_its_validation()
    {
        var settings = ConfigurationSettings();

        // The cookie key is the point of the manifests: the test is not allowed to pass with no keys at all.
        Assert.Contains(ConfigurationKey(nameof(FastOpenTransportOptions.CookieKey)), settings.Keys);
        Assert.All(settings.Keys, key => Assert.StartsWith(FastOpenTransportOptions.ConfigurationSectionName + ConfigurationPath.KeyDelimiter, key, StringComparison.OrdinalIgnoreCase));
        var options = Bind(settings);
        Assert.Equal(SecretKey, options.CookieKey);
        var validation = new FastOpenTransportOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);
    }

    [Fact]
    public void A_key_that_names_no_option_fails_the_binding_the_manifests_are_checked_with()
    {
        var misspelled = new Dictionary<string, string?> { [ConfigurationKey("CookieKeys")] = SecretKey };

        Assert.Throws<InvalidOperationException>(() => Bind(misspelled));
    }

    [Fact]
    public void Every_secret_key_the_deployment_reads_is_in_the_secret_and_the_placeholder_is_no_key()
    {
        var secrets = Documents("Secret").ToDictionary(
            secret => Scalar(secret, "metadata", "name"),
            secret => ((YamlMappingNode)secret["stringData"]).Children.ToDictionary(entry => ((YamlScalarNode)entry.Key).Value!, entry => ((YamlScalarNode)entry.Value).Value!));
        var references = EnvironmentVariables().Where(variable => variable.SecretName is not null).ToList();

        Assert.NotEmpty(references);
        Assert.All(references.Where(reference => !reference.Optional), reference =>
            Assert.True(secrets.TryGetValue(reference.SecretName!, out var keys) && keys.ContainsKey(reference.SecretKey!), $"{reference.Name} reads {reference.SecretName}/{reference.SecretKey}, which the manifests do not define"));

        // A placeholder that parsed would be a real key, copied into clusters from a public repository.
        Assert.All(secrets.Values.SelectMany(keys => keys.Values), value => Assert.False(FastOpenCookieKey.TryParse(value, new byte[FastOpenCookieKey.Length], out _)));
    }

    [Fact]
    public void The_pods_sysctl_is_the_one_the_doctor_prescribes()
    {
        var sysctls = Documents("Deployment")
            .Select(deployment => (YamlSequenceNode)Node(deployment, "spec", "template", "spec", "securityContext", "sysctls"))
            .SelectMany(list => list.Children.Cast<YamlMappingNode>())
            .ToDictionary(sysctl => Scalar(sysctl, "name"), sysctl => Scalar(sysctl, "value"));

        var fix = FastOpenSysctlFix.For(LinuxFastOpenSysctl.ClientBit | LinuxFastOpenSysctl.ServerBit);
        Assert.Equal(fix.Value.ToString(CultureInfo.InvariantCulture), sysctls[LinuxFastOpenSysctl.Name]);
    }

    private static string ConfigurationKey(string option) =>
        FastOpenTransportOptions.ConfigurationSectionName + ConfigurationPath.KeyDelimiter + option;

    /// <summary>The configuration the deployment's environment variables make, as the environment provider maps them.</summary>
    private static Dictionary<string, string?> ConfigurationSettings() =>
        EnvironmentVariables()
            .Where(variable => variable.Name.Contains("__", StringComparison.Ordinal))
            .ToDictionary(variable => variable.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), variable => (string?)(variable.Value ?? SecretKey));

    private static FastOpenTransportOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return configuration.GetSection(FastOpenTransportOptions.ConfigurationSectionName).Get<FastOpenTransportOptions>(binder => binder.ErrorOnUnknownConfiguration = true)
            ?? throw new InvalidOperationException("nothing bound");
    }

    private static IEnumerable<EnvironmentVariable> EnvironmentVariables() =>
        Documents("Deployment")
            .SelectMany(deployment => ((YamlSequenceNode)Node(deployment, "spec", "template", "spec", "containers")).Children.Cast<YamlMappingNode>())
            .Where(container => container.Children.ContainsKey("env"))
            .SelectMany(container => ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>())
            .Select(variable =>
            {
                var secret = variable.Children.TryGetValue("valueFrom", out var from) ? (YamlMappingNode)((YamlMappingNode)from)["secretKeyRef"] : null;
                return new EnvironmentVariable(
                    Scalar(variable, "name"),
                    variable.Children.TryGetValue("value", out var value) ? ((YamlScalarNode)value).Value : null,
                    secret is null ? null : Scalar(secret, "name"),
                    secret is null ? null : Scalar(secret, "key"),
                    secret is not null && secret.Children.TryGetValue("optional", out var optional) && ((YamlScalarNode)optional).Value == "true");
            });

    private static IEnumerable<YamlMappingNode> Documents(string kind)
    {
        var files = Directory.GetFiles(s_directory, "*.yaml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                stream.Load(reader);
            }

            foreach (var document in stream.Documents)
            {
                if (document.RootNode is YamlMappingNode root && Scalar(root, "kind") == kind)
                {
                    yield return root;
                }
            }
        }
    }

    private static YamlNode Node(YamlMappingNode node, params string[] path) =>
        path.Aggregate((YamlNode)node, (current, key) => ((YamlMappingNode)current)[key]);

    private static string Scalar(YamlMappingNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value!;

    private sealed record EnvironmentVariable(string Name, string? Value, string? SecretName, string? SecretKey, bool Optional);
}
