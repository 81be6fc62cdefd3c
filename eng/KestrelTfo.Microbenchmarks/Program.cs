using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using KestrelTfo.Microbenchmarks;

// The accept path's per-connection cost, and the TLS stack's handshake that the latency benchmark's TLS rows pay.
// Run it through eng/bench-throughput.sh (root, a private network namespace with net.ipv4.tcp_fastopen=3): the TFO
// socket the accept path inspects needs the kernel's server bit.
//   [--artifacts DIR] [BenchmarkDotNet options, e.g. --filter *Classify*]
// In process: the namespace has no route to the package feed, so BenchmarkDotNet cannot build a separate project,
// and a short job (3 warm-ups, 10 iterations; the handshake sets its own 100) keeps the whole run to a minute or two.
var artifacts = "artifacts/bench/micro";
var index = Array.IndexOf(args, "--artifacts");
if (index >= 0 && index + 1 < args.Length)
{
    artifacts = args[index + 1];
    args = [.. args[..index], .. args[(index + 2)..]];
}

var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithToolchain(InProcessEmitToolchain.Instance))
    .AddExporter(JsonExporter.Full)
    .WithArtifactsPath(Path.GetFullPath(artifacts));
BenchmarkSwitcher.FromTypes([typeof(AcceptPathBenchmarks), typeof(ClassifierBenchmarks), typeof(TlsHandshakeBenchmarks), typeof(ReplayRecordBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
