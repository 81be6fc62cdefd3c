using System.Text.Json;
using KestrelTfo.Doctor;
using KestrelTfo.FunctionalTests.Infrastructure;

namespace KestrelTfo.FunctionalTests.Doctor;

/// <summary>One in-process run of the doctor: its exit code and what it wrote.</summary>
internal sealed record DoctorRun(int ExitCode, string Output, string Error)
{
    /// <summary>Runs the doctor with <paramref name="args"/>; its self-test listens on an address of the tests' allocator.</summary>
    public static async Task<DoctorRun> StartAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await DoctorCommandLine.RunAsync(args, output, error, Loopback.NextAddress(), TestContext.Current.CancellationToken);
        return new DoctorRun(exitCode, output.ToString(), error.ToString());
    }

    public JsonElement Json => JsonDocument.Parse(Output).RootElement;

    public JsonElement Check(string name) =>
        Json.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public IReadOnlyList<string> Failed =>
        [.. Json.GetProperty("checks").EnumerateArray().Where(c => !c.GetProperty("ok").GetBoolean()).Select(c => c.GetProperty("name").GetString()!)];
}
