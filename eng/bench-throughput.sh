#!/usr/bin/env bash
# Throughput, connection churn and cost per connection, KestrelTfo against Kestrel's default socket transport, then
# the micro-benchmarks (BenchmarkDotNet: the accept path, the classifier, the TLS stack's handshake). Root only.
#   eng/bench-throughput.sh [--pairs 10] [--duration 3] [--keepalive-connections 32] [--churn-connections 32]
#                           [--output artifacts/bench] [--only 1,2,...] [--no-micro]
#                           [--no-throughput] [--micro-filter GLOB, e.g. '*TlsHandshake*'; may repeat]
# Builds in Release, installs wrk (Debian's package) when missing, then runs inside a private network namespace
# (unshare -n) with loopback up and net.ipv4.tcp_fastopen=3, so TFO is real and the host's network is never touched.
# Writes throughput.md and throughput.json, and the micro-benchmark's reports under micro/.
# With 2 or more CPUs the server is pinned to CPU 0 and the load generator to CPU 1 (taskset), so the two do not
# trade places between runs; BENCH_PIN=0 turns that off. Both run at nice -10 (BENCH_NICE), so on a shared machine
# other work slows a run less; the load still shows, which is why runs alternate and the median ratio is reported.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

in_netns=0
if [[ "${1:-}" == "--in-netns" ]]; then in_netns=1; shift; fi
original=("$@")
command="eng/bench-throughput.sh${*:+ $*}"

micro=1 throughput=1 output=artifacts/bench args=() filters=() throughput_options=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-micro) micro=0; shift ;;
        --no-throughput) throughput=0; shift ;;
        --micro-filter|--output)
            [[ $# -ge 2 ]] || { echo "bench-throughput: $1 needs a value" >&2; exit 2; }
            if [[ $1 == --output ]]; then output=$2; args+=("$1" "$2"); else filters+=("$2"); fi
            shift 2 ;;
        *) args+=("$1"); throughput_options=1; shift ;;
    esac
done
if [[ $micro -eq 0 && $throughput -eq 0 ]]; then
    echo "bench-throughput: --no-micro and --no-throughput leave nothing to run" >&2; exit 2
fi
if [[ $micro -eq 0 && ${#filters[@]} -gt 0 ]]; then
    echo "bench-throughput: --micro-filter does nothing with --no-micro" >&2; exit 2
fi
if [[ $throughput -eq 0 && $throughput_options -eq 1 ]]; then
    echo "bench-throughput: throughput options (${args[*]}) do nothing with --no-throughput" >&2; exit 2
fi

if [[ $in_netns -eq 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bench-throughput: needs root (a private network namespace with its own net.ipv4.tcp_fastopen); run it with sudo" >&2
        exit 2
    fi
    if [[ $throughput -eq 1 ]] && ! command -v wrk >/dev/null; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    fi
    if ! command -v ip >/dev/null; then
        apt-get update -qq && apt-get install -y -qq iproute2 >/dev/null
    fi
    if [[ $throughput -eq 1 ]]; then dotnet build eng/KestrelTfo.ThroughputBenchmark -c Release -nologo -v quiet; fi
    if [[ $micro -eq 1 ]]; then dotnet build eng/KestrelTfo.Microbenchmarks -c Release -nologo -v quiet; fi
    exec unshare --net -- "$0" --in-netns "${original[@]}"
fi

ip link set lo up
echo 3 > /proc/sys/net/ipv4/tcp_fastopen
# Names this namespace, so the benchmark can check it runs in the one made here, never the host's.
KESTRELTFO_BENCH_NETNS=$(readlink /proc/self/ns/net)
export KESTRELTFO_BENCH_NETNS
# Churn makes tens of thousands of connections a run; the server closes first, so TIME_WAIT stays on its side.
echo "1024 65535" > /proc/sys/net/ipv4/ip_local_port_range
echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse

# Runs one benchmark process and passes SIGTERM or SIGINT on to it, so that stopping this script stops the run: a
# signal to this shell alone would leave the process measuring (and a background process ignores SIGINT).
run_benchmark() {
    "$@" &
    local pid=$! status=0
    trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
    # wait returns early when a trapped signal arrives: wait again, for the process's own exit status.
    while true; do
        wait "$pid" && status=0 || status=$?
        kill -0 "$pid" 2>/dev/null || break
    done
    trap - TERM INT
    return "$status"
}

server=(nice -n "${BENCH_NICE:--10}") client=()
if [[ "${BENCH_PIN:-1}" != "0" && $(nproc --all) -ge 2 ]]; then
    server+=(taskset -c 0) client=(--client-cpus 1)
fi
if [[ $throughput -eq 1 ]]; then
    run_benchmark "${server[@]}" dotnet eng/KestrelTfo.ThroughputBenchmark/bin/Release/net10.0/KestrelTfo.ThroughputBenchmark.dll \
        --command "$command" "${client[@]}" "${args[@]}"
fi

if [[ $micro -eq 1 ]]; then
    micro_args=(--artifacts "$output/micro")
    if [[ ${#filters[@]} -gt 0 ]]; then micro_args+=(--filter "${filters[@]}"); fi
    run_benchmark dotnet eng/KestrelTfo.Microbenchmarks/bin/Release/net10.0/KestrelTfo.Microbenchmarks.dll "${micro_args[@]}"
fi
