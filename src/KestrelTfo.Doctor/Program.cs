namespace KestrelTfo.Doctor;

internal static class Program
{
    public static Task<int> Main(string[] args) => DoctorCommandLine.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
}
