namespace KestrelTfo.Fleet;

/// <summary>What fleet to build: the app, how many instances, the balancer, the keys, and whether it serves HTTPS.</summary>
public sealed class FleetOptions
{
    /// <summary>The HTTPS port tests and benchmarks give <see cref="HttpsPort"/>.</summary>
    public const int DefaultHttpsPort = 8443;

    /// <summary>Gets the <c>dotnet</c> host that runs the app.</summary>
    public required string DotNetHost { get; init; }

    /// <summary>
    /// Gets the app's assembly (the sample, <c>HelloFastOpen.dll</c>): an ASP.NET Core app that takes <c>--urls</c> and
    /// reads <c>appsettings*.json</c> from its content root with reloading, and answers <c>GET /</c> with whether the
    /// connection used TCP Fast Open.
    /// </summary>
    public required string AppPath { get; init; }

    /// <summary>Gets the balancer. Defaults to <see cref="FleetBalancer.Ecmp"/>.</summary>
    public FleetBalancer Balancer { get; init; } = FleetBalancer.Ecmp;

    /// <summary>Gets the number of instances. Defaults to 3.</summary>
    public int InstanceCount { get; init; } = 3;

    /// <summary>
    /// Gets a value indicating whether every instance is given the same cookie key (and, with <see cref="HttpsPort"/>, the
    /// same TLS ticket key); otherwise each gets keys of its own. Defaults to <see langword="true"/>.
    /// </summary>
    public bool SharedKeys { get; init; } = true;

    /// <summary>Gets the port the instances listen on and the service address serves. Defaults to 8080.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>
    /// Gets the port of an HTTPS endpoint on each instance, or null for none (the default). With it, each instance serves
    /// HTTPS on the TLS layer with TLS 1.3 early data on, a certificate the fleet makes, and a configured
    /// <c>TicketKey</c> (see <see cref="SharedKeys"/>); the service address serves this port too.
    /// </summary>
    public int? HttpsPort { get; init; }

    /// <summary>
    /// Gets the name the fleet's namespaces start with (<c>NAME-client</c>, <c>NAME-router</c>, <c>NAME-i0</c>...). Named
    /// namespaces are global to the machine, so the default is <c>ktfo-fleet-</c> and random digits.
    /// </summary>
    public string Name { get; init; } = $"ktfo-fleet-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Gets how long an instance may take to start listening. Defaults to 60 seconds.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
