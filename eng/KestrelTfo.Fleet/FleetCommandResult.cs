namespace KestrelTfo.Fleet;

/// <summary>How a command run in one of the fleet's namespaces ended.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Output">What it wrote to standard output.</param>
/// <param name="Error">What it wrote to standard error.</param>
public sealed record FleetCommandResult(int ExitCode, string Output, string Error);
