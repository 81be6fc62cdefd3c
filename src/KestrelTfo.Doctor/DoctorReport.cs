using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace KestrelTfo.Doctor;

/// <summary>The checks that ran, the verdict and the fix, written for a person or as JSON for a script.</summary>
internal sealed class DoctorReport
{
    private readonly List<DoctorCheck> _checks = [];

    public DoctorReport(string title) => Title = title;

    public string Title { get; }

    public IReadOnlyList<DoctorCheck> Checks => _checks;

    public DoctorExitCode ExitCode { get; private set; } = DoctorExitCode.Works;

    public bool Ok => ExitCode == DoctorExitCode.Works;

    public DoctorFix? Fix { get; private set; }

    /// <summary>With <c>--check</c>: the connections after the cookie connection, and the share that took SYN data.</summary>
    public DoctorFleet? Fleet { get; set; }

    /// <summary>What the verdict means, one sentence.</summary>
    public string Summary { get; set; } = "";

    public DoctorCheck Add(DoctorCheck check)
    {
        _checks.Add(check);
        return check;
    }

    /// <summary>Records a failure; the first one decides the exit code and the fix, since later ones usually follow from it.</summary>
    public void Fail(DoctorExitCode exitCode, DoctorFix fix)
    {
        if (ExitCode == DoctorExitCode.Works)
        {
            ExitCode = exitCode;
            Fix = fix;
        }
    }

    public void WriteText(TextWriter output)
    {
        output.WriteLine(Title);
        output.WriteLine();
        var width = _checks.Count == 0 ? 0 : _checks.Max(c => c.Name.Length);
        foreach (var check in _checks)
        {
            output.WriteLine($"{(check.Ok ? "✓" : "✗")} {check.Name.PadRight(width)}  {check.Value} — {check.Detail}");
        }

        output.WriteLine();
        output.WriteLine(Summary);
        if (Fix is null)
        {
            return;
        }

        if (Fix.Steps.Count == 0)
        {
            output.WriteLine($"Fix: {Fix.Text}");
            return;
        }

        output.WriteLine("Fix:");
        var labelWidth = Fix.Steps.Max(s => s.Key.Length);
        foreach (var (where, how) in Fix.Steps)
        {
            output.WriteLine($"  {(where + ":").PadRight(labelWidth + 1)} {how}");
        }
    }

    public void WriteJson(TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,

            // Read by people too: keep the backticks and quotes of the commands as they are.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            json.WriteStartObject();
            json.WriteBoolean("ok", Ok);
            json.WriteNumber("exitCode", (int)ExitCode);
            json.WriteString("summary", Summary);
            json.WriteStartArray("checks");
            foreach (var check in _checks)
            {
                json.WriteStartObject();
                json.WriteString("name", check.Name);
                json.WriteBoolean("ok", check.Ok);
                json.WriteString("value", check.Value);
                json.WriteString("detail", check.Detail);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (Fix is null)
            {
                json.WriteNull("fix");
            }
            else
            {
                json.WriteString("fix", Fix.Text);
            }

            if (Fleet is { } fleet)
            {
                json.WriteStartObject("fleet");
                json.WriteString("kind", fleet.Kind);
                json.WriteNumber("connections", fleet.Connections);
                json.WriteNumber("accepted", fleet.Accepted);
                json.WriteString("share", fleet.Share);
                json.WriteString("meaning", fleet.Meaning);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
