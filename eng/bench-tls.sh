#!/usr/bin/env bash
# TLS handshakes per second and server CPU per handshake: the TLS layer on OpenSSL (UseOpenSslHttps) against Kestrel's
# UseHttps (SslStream), on the same TCP Fast Open transport in one server, full and resumed, one client and 8 at once,
# beside the same connections without TLS, runs alternating, ratios side by side; with --soak N, then N full handshakes
# on the layer with resident memory and file descriptors before and after. The client is the product's own OpenSSL
# client in a process of its own (each client one connection at a time: a handshake and one GET).
# Then keep-alive throughput over HTTPS: HTTP/1.1 (wrk -t1 -c16) and HTTP/2 (h2load -t1 -c16, -m10 for small responses,
# -m1 for 1 MB ones), 2-byte and 1 MB responses, server CPU per request.
#   eng/bench-tls.sh [--seconds 5] [--rounds 3] [--soak 100000] [--no-throughput] [--output artifacts/bench]
#   eng/bench-tls.sh --serve   (only the server, until standard input ends: for a profiler and clients of one's own)
# Root: runs in a private network namespace (unshare -n) with loopback up and net.ipv4.tcp_fastopen=3.
# Writes OUTPUT/tls.md.
# --client-cpu N adds the client's CPU per new HTTPS connection: HttpClient over KestrelTfo.Client's own TLS with early data
# (FastOpenHttpsHandler) against SslStream, N connections per run, --rounds runs of each alternating, each client in a
# process of its own, e.g. eng/bench-tls.sh --seconds 1 --rounds 5 --no-throughput --client-cpu 1000
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ "${1:-}" != "--in-netns" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bench-tls: needs root (a private network namespace); run it with sudo" >&2
        exit 2
    fi
    { command -v wrk && command -v h2load; } >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nghttp2-client >/dev/null; }
    dotnet build eng/KestrelTfo.TlsBenchmark -c Release -nologo -v quiet
    exec unshare --net -- "$0" --in-netns "$@"
fi
shift
ip link set lo up
echo 3 > /proc/sys/net/ipv4/tcp_fastopen
exec dotnet eng/KestrelTfo.TlsBenchmark/bin/Release/net10.0/KestrelTfo.TlsBenchmark.dll "$@"
