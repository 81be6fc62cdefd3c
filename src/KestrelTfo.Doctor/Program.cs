namespace KestrelTfo.Doctor;

internal static class Program
{
    public static Task<int> Main(string[] args) => FastOpenDoctor.RunAsync(args, Console.Out, Console.Error);
}
