#!/usr/bin/env bash
# Time to first response byte on new connections over an emulated WAN link (RTT 10, 50, 100 ms): Kestrel's default
# transport vs KestrelTfo (Flag, and Defer with its kernel filter), plain and TFO clients, HTTP/1.1, HTTPS (TLS 1.3)
# and gRPC, TLS 1.3 early data on KestrelTfo's TLS layer and on nginx (fastopen, ssl_early_data; Debian's package,
# installed when missing), and through a YARP proxy with a second link to its backend (RTT --backend-rtt, else the same).
# Root only.
#   eng/bench-latency.sh [--rtt 10,50,100] [--backend-rtt MS] [--connections 40] [--warmup 10] [--output artifacts/latency]
# Builds in Release, then runs inside a private network namespace (unshare -n) with loopback up and
# net.ipv4.tcp_fastopen=3, so the host's network is never touched, with real-time round-robin scheduling (see below).
# While it runs, it asks the kernel to keep idle CPUs out of deep idle states (/dev/cpu_dma_latency = 0, released
# when the process exits, even if it is killed); BENCH_SHALLOW_IDLE=0 measures without. Writes latency.md, latency.json and latency.svg (the chart).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ "${1:-}" != "--in-netns" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bench-latency: needs root (network namespaces and TUN devices); run it with sudo" >&2
        exit 2
    fi
    # nginx is the reference server of the early-data rows; Debian puts it in /usr/sbin.
    if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
        apt-get update -qq && apt-get install -y -qq nginx >/dev/null
    fi
    dotnet build eng/KestrelTfo.LatencyBenchmark -c Release -nologo -v quiet
    exec unshare --net -- "$0" --in-netns "$@"
fi
shift

ip link set lo up
echo 3 > /proc/sys/net/ipv4/tcp_fastopen
KESTRELTFO_BENCH_NETNS=$(readlink /proc/self/ns/net)
export KESTRELTFO_BENCH_NETNS
# Round-robin real-time scheduling (root may): on a busy machine an ordinary thread waits for a CPU for milliseconds,
# which would show up as round trips that are not there. BENCH_REALTIME=0 measures with normal scheduling.
realtime=()
if [[ "${BENCH_REALTIME:-1}" != "0" ]]; then realtime=(chrt --rr 5); fi
exec "${realtime[@]}" dotnet eng/KestrelTfo.LatencyBenchmark/bin/Release/net10.0/KestrelTfo.LatencyBenchmark.dll --command "eng/bench-latency.sh${*:+ $*}" "$@"
