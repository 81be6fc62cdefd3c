namespace KestrelTfo.Doctor;

/// <summary>One line of the report.</summary>
/// <param name="Name">Stable, for scripts: a sysctl's name, or a step of the self-test.</param>
/// <param name="Ok">Whether this check passed.</param>
/// <param name="Value">What was found, short.</param>
/// <param name="Detail">What it means.</param>
internal sealed record DoctorCheck(string Name, bool Ok, string Value, string Detail);
