namespace KestrelTfo.Doctor;

/// <summary>What to do about the first failed check.</summary>
/// <param name="Text">The whole fix in one sentence (the JSON report's <c>fix</c>).</param>
/// <param name="Steps">The same, one labelled line per place the app may run; empty when it is one step.</param>
internal sealed record DoctorFix(string Text, IReadOnlyList<KeyValuePair<string, string>> Steps);
