namespace KestrelTfo.FunctionalTests.Infrastructure;

/// <summary>
/// The range a binomial count falls in but for a chance below <see cref="Tail"/> on each side: where a test counts
/// independent events of known probability, such as connections that reach the same instance as the one before.
/// </summary>
internal static class BinomialRange
{
    /// <summary>Each side's chance that a correct system lands outside the range: a test fails by chance once in 10⁶ runs at most.</summary>
    public const double Tail = 1e-6;

    public static (int Low, int High) Of(int trials, double probability)
    {
        var cumulative = 0.0;
        var low = 0;
        var high = trials;
        for (var k = 0; k <= trials; k++)
        {
            var below = cumulative;
            cumulative += Probability(trials, k, probability);
            if (below < Tail)
            {
                low = k;
            }

            if (1 - cumulative < Tail)
            {
                high = k;
                break;
            }
        }

        return (low, high);
    }

    private static double Probability(int trials, int k, double p)
    {
        // In logarithms, so that 60 choose 30 and 3^-60 stay in range.
        var log = LogFactorial(trials) - LogFactorial(k) - LogFactorial(trials - k) + (k * Math.Log(p)) + ((trials - k) * Math.Log(1 - p));
        return Math.Exp(log);
    }

    private static double LogFactorial(int n)
    {
        var sum = 0.0;
        for (var i = 2; i <= n; i++)
        {
            sum += Math.Log(i);
        }

        return sum;
    }
}
