#!/usr/bin/env bash
# Throughput, connection churn and cost per connection, KestrelTfo against Kestrel's default socket transport, then
# the accept-path micro-benchmark (BenchmarkDotNet). Root only.
#   eng/bench-throughput.sh [--pairs 10] [--duration 3] [--keepalive-connections 32] [--churn-connections 32]
#                           [--output artifacts/bench] [--only 1,2,...] [--no-micro]
# Builds in Release, installs wrk (Debian's package) when missing, then runs inside a private network namespace
# (unshare -n) with loopback up and net.ipv4.tcp_fastopen=3, so TFO is real and the host's network is never touched.
# Writes throughput.md and throughput.json, and the micro-benchmark's reports under micro/.
# With 2 or more CPUs the server is pinned to CPU 0 and the load generator to CPU 1 (taskset), so the two do not
# trade places between runs; BENCH_PIN=0 turns that off. Both run at nice -10 (BENCH_NICE), so on a shared machine
# other work slows a run less; the load still shows, which is why runs alternate and the median ratio is reported.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ "${1:-}" != "--in-netns" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bench-throughput: needs root (a private network namespace with its own net.ipv4.tcp_fastopen); run it with sudo" >&2
        exit 2
    fi
    if ! command -v wrk >/dev/null; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    fi
    if ! command -v ip >/dev/null; then
        apt-get update -qq && apt-get install -y -qq iproute2 >/dev/null
    fi
    dotnet build eng/KestrelTfo.ThroughputBenchmark -c Release -nologo -v quiet
    dotnet build eng/KestrelTfo.Microbenchmarks -c Release -nologo -v quiet
    exec unshare --net -- "$0" --in-netns "$@"
fi
shift

micro=1 output=artifacts/bench args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-micro) micro=0; shift ;;
        --output) output=$2; args+=("$1" "$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

ip link set lo up
echo 3 > /proc/sys/net/ipv4/tcp_fastopen
# Names this namespace, so the benchmark can check it runs in the one made here, never the host's.
KESTRELTFO_BENCH_NETNS=$(readlink /proc/self/ns/net)
export KESTRELTFO_BENCH_NETNS
# Churn makes tens of thousands of connections a run; the server closes first, so TIME_WAIT stays on its side.
echo "1024 65535" > /proc/sys/net/ipv4/ip_local_port_range
echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse

server=(nice -n "${BENCH_NICE:--10}") client=()
if [[ "${BENCH_PIN:-1}" != "0" && $(nproc --all) -ge 2 ]]; then
    server+=(taskset -c 0) client=(--client-cpus 1)
fi
command="eng/bench-throughput.sh${*:+ $*}"
"${server[@]}" dotnet eng/KestrelTfo.ThroughputBenchmark/bin/Release/net10.0/KestrelTfo.ThroughputBenchmark.dll \
    --command "$command" "${client[@]}" "${args[@]}"

if [[ $micro -eq 1 ]]; then
    dotnet eng/KestrelTfo.Microbenchmarks/bin/Release/net10.0/KestrelTfo.Microbenchmarks.dll --artifacts "$output/micro"
fi
